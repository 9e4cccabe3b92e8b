#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <wagate/core/error.hpp>

namespace wagate::pg {

/// One forward-only migration: `name` is `NNNN_what.sql`, NNNN its version.
struct MigrationFile {
    std::string_view name;
    std::string_view sql;
};

/// The files of migrations/, compiled into the binary (generated at build time).
const std::vector<MigrationFile>& embedded_migrations();

struct MigrationReport {
    std::vector<std::string> applied;  // names applied by this run
    std::size_t already_applied = 0;
};

/// Applies pending migrations in version order, each in its own transaction, under a
/// session-level advisory lock so that instances starting together apply each file once.
/// Fails (nothing further applied) when an applied file's checksum differs from the one recorded,
/// when the database has a version this binary does not know, or when a file fails.
/// Blocking: for start-up and the CLI, not for request paths.
/// Errors: kDbUnavailable (cannot connect), kConflict (checksum or version mismatch),
/// kInternal (a migration failed; the message names it).
Result<MigrationReport> migrate(const std::string& conninfo, std::span<const MigrationFile> files);

/// How many of `files` the database has not applied yet (blocking; for start-up).
/// Errors: kDbUnavailable.
Result<std::size_t> pending_migrations(const std::string& conninfo, std::span<const MigrationFile> files);

/// Pure. The version number of a migration file name, or -1 if it is not `NNNN_*.sql`.
int migration_version(std::string_view name) noexcept;

}  // namespace wagate::pg
