#include <exception>
#include <cstdio>

#include <wagate/app/cli.hpp>

int main(int argc, char** argv) {
    try {
        return wagate::app::run_cli(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "wagate: fatal: %s\n", e.what());
        return 1;
    }
}
