#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wagate::test {

/// A child process (the real `wagate` binary) with extra environment variables; its output goes
/// to a file. Killed with SIGKILL if still running when destroyed.
class Process {
public:
    /// `separate_stderr`: standard error goes to its own file (error_output()), so output() is
    /// exactly what the command printed on standard output.
    Process(const std::string& binary, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env, bool separate_stderr = false);
    ~Process();

    void signal(int sig) const;
    /// The exit code (or 128 + signal), or nullopt if still running after `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    std::string output() const;
    std::string error_output() const;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::string output_file_;
    std::string error_file_;  // empty: standard error goes to output_file_
    std::optional<int> status_;
};

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
unsigned short free_port();

/// Polls GET /readyz until 200 or `timeout`; true when ready.
bool wait_until_ready(unsigned short port, std::chrono::milliseconds timeout);

}  // namespace wagate::test
