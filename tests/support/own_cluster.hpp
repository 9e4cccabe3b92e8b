#pragma once

#include <string>

namespace wagate::test {

/// A durable PostgreSQL cluster of a test's own (scripts/pg-cluster.sh start --durable), for tests
/// that crash the database and bring it back: halt() is an immediate shutdown (connections cut, no
/// checkpoint), resume() starts it again on the same socket, with crash recovery. Stopped and
/// removed when destroyed, unless `keep`. Errors throw std::runtime_error.
class OwnCluster {
public:
    /// `state_dir` receives the script's `dsn` and `cluster_dir` files.
    explicit OwnCluster(std::string state_dir, bool keep = false);
    ~OwnCluster();
    OwnCluster(const OwnCluster&) = delete;
    OwnCluster& operator=(const OwnCluster&) = delete;

    /// The libpq URI of its `postgres` database.
    const std::string& dsn() const { return dsn_; }
    void halt() const;
    void resume() const;

private:
    void run(const std::string& command, const std::string& extra = "") const;

    std::string state_dir_;
    bool keep_;
    std::string dsn_;
};

}  // namespace wagate::test
