#include "support/own_cluster.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace wagate::test {

OwnCluster::OwnCluster(std::string state_dir, bool keep) : state_dir_(std::move(state_dir)), keep_(keep) {
    run("start", "--durable");
    std::ifstream(state_dir_ + "/dsn") >> dsn_;
    if (dsn_.empty()) {
        throw std::runtime_error("pg-cluster.sh wrote no dsn in " + state_dir_);
    }
}

OwnCluster::~OwnCluster() {
    if (keep_) {
        return;
    }
    try {
        run("stop");
    } catch (const std::exception&) {
        // already gone; nothing else to clean up
    }
}

void OwnCluster::halt() const { run("halt"); }
void OwnCluster::resume() const { run("resume"); }

void OwnCluster::run(const std::string& command, const std::string& extra) const {
    const std::string line = "bash '" WAGATE_SOURCE_DIR "/scripts/pg-cluster.sh' " + command + " '" + state_dir_ +
                             "' " + extra + " >/dev/null";
    if (std::system(line.c_str()) != 0) {
        throw std::runtime_error("scripts/pg-cluster.sh " + command + " " + state_dir_ + " failed");
    }
}

}  // namespace wagate::test
