#pragma once

namespace wagate::app {

/// `wagate <subcommand> [flags]`: serve, migrate, version, help. Returns the process exit code:
/// 0 success, 1 runtime failure, 2 usage or configuration error.
int run_cli(int argc, char** argv);

}  // namespace wagate::app
