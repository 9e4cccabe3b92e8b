#pragma once

#include <memory>
#include <vector>

namespace wagate::chaos {

/// The load balancer in front of several `wagate serve` instances, as Meta's webhooks meet it in
/// a deployment: a TCP proxy on 127.0.0.1 that gives each new connection to the next backend that
/// accepts it (round robin, skipping ones that refuse), then copies bytes both ways until either
/// side closes. A killed backend cuts its connections; the client's reconnect lands on another.
/// Runs on its own thread.
class TcpBalancer {
public:
    explicit TcpBalancer(std::vector<unsigned short> backend_ports);
    ~TcpBalancer();
    TcpBalancer(const TcpBalancer&) = delete;
    TcpBalancer& operator=(const TcpBalancer&) = delete;

    unsigned short port() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wagate::chaos
