#pragma once

#include <string>
#include <vector>

namespace wagate::app {

/// `wagate admin …` (arguments after "admin"): the admin API's operations from the command line,
/// against the database directly or a running gateway (`--url`). Returns the exit status.
int run_admin(const std::vector<std::string>& args);

/// `wagate healthcheck [--config FILE] [--url URL]`: GET /readyz of the gateway this
/// configuration describes (container health checks); 0 when it answers 200, 1 otherwise.
int run_healthcheck(const std::vector<std::string>& args);

}  // namespace wagate::app
