#include <wagate/pg/connection.hpp>

#include <algorithm>
#include <optional>
#include <unordered_set>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>
#include <wagate/pg/sqlstate.hpp>

namespace wagate::pg {
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

enum class Wait { kRead, kWrite };
enum class Waited { kReady, kTimedOut, kFailed };

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

void log_notice(void*, const PGresult* result) {
    spdlog::debug("postgres notice: {}", PQresultErrorMessage(result));
}

/// While connecting (the socket may change between polls): waits until `fd` is ready in
/// `direction` or `deadline` passes. The descriptor only borrows libpq's socket: it is released,
/// never closed, because libpq owns it.
asio::awaitable<Waited> wait_socket_once(int fd, Wait direction,
                                    std::chrono::steady_clock::time_point deadline) {
    auto executor = co_await asio::this_coro::executor;
    asio::posix::stream_descriptor descriptor(executor, fd);
    asio::steady_timer timer(executor, deadline);
    const auto what = direction == Wait::kRead ? asio::posix::descriptor_base::wait_read
                                               : asio::posix::descriptor_base::wait_write;
    auto outcome = co_await (descriptor.async_wait(what, kUseTuple) || timer.async_wait(kUseTuple));
    descriptor.release();
    if (outcome.index() == 1) {
        co_return Waited::kTimedOut;
    }
    auto [ec] = std::get<0>(outcome);
    co_return ec ? Waited::kFailed : Waited::kReady;
}

}  // namespace

struct Connection::Impl {
    PGconn* conn = nullptr;
    bool broken = false;
    std::chrono::milliseconds server_statement_timeout{0};  // the session's statement_timeout
    std::unordered_set<std::string> prepared;
    // Once connected, libpq's socket never changes: it is registered with the reactor once
    // rather than on every wait (each registration costs epoll_ctl and ioctl calls).
    std::optional<asio::posix::stream_descriptor> socket;
    std::optional<asio::steady_timer> timer;

    ~Impl() {
        if (socket) {
            socket->release();  // libpq owns the descriptor and closes it in PQfinish
        }
        if (conn) {
            PQfinish(conn);
        }
    }

    asio::awaitable<Waited> wait(Wait direction, std::chrono::steady_clock::time_point deadline) {
        if (!socket) {
            auto executor = co_await asio::this_coro::executor;
            socket.emplace(executor, PQsocket(conn));
            timer.emplace(executor);
        }
        timer->expires_at(deadline);
        const auto what = direction == Wait::kRead ? asio::posix::descriptor_base::wait_read
                                                   : asio::posix::descriptor_base::wait_write;
        auto outcome = co_await (socket->async_wait(what, kUseTuple) || timer->async_wait(kUseTuple));
        if (outcome.index() == 1) {
            co_return Waited::kTimedOut;
        }
        auto [ec] = std::get<0>(outcome);
        co_return ec ? Waited::kFailed : Waited::kReady;
    }

    Error fail(Errc code, std::string_view what) {
        broken = true;
        std::string message(what);
        if (conn) {
            message += ": ";
            message += PQerrorMessage(conn);
        }
        return Error{code, std::move(message)};
    }

    /// Sends what libpq has buffered. While waiting to write, input is consumed as well: a large
    /// send can otherwise deadlock against a server that is blocked writing to us (libpq docs).
    asio::awaitable<Result<void>> flush(std::chrono::steady_clock::time_point deadline) {
        for (int rc = PQflush(conn); rc != 0; rc = PQflush(conn)) {
            if (rc < 0) {
                co_return fail(Errc::kDbUnavailable, "PQflush");
            }
            const Waited w = co_await wait(Wait::kWrite, deadline);
            if (w == Waited::kTimedOut) {
                co_return fail(Errc::kTimeout, "timed out sending to the database");
            }
            if (w == Waited::kFailed || PQconsumeInput(conn) != 1) {
                co_return fail(Errc::kDbUnavailable, "PQconsumeInput");
            }
        }
        co_return Result<void>{};
    }

    /// Collects every result of the command just sent, up to libpq's terminating NULL. Returns
    /// the last one, or the first error: the remaining results are still drained so that the
    /// connection stays usable.
    asio::awaitable<Result<Rows>> collect(std::chrono::steady_clock::time_point deadline) {
        Rows last;
        std::optional<Error> error;
        for (;;) {
            while (PQisBusy(conn) == 1) {
                const Waited w = co_await wait(Wait::kRead, deadline);
                if (w == Waited::kTimedOut) {
                    co_return fail(Errc::kTimeout, "timed out waiting for the database");
                }
                if (w == Waited::kFailed || PQconsumeInput(conn) != 1) {
                    co_return fail(Errc::kDbUnavailable, "PQconsumeInput");
                }
            }
            PGresult* result = PQgetResult(conn);
            if (result == nullptr) {
                break;
            }
            Rows rows(result);
            const ExecStatusType status = PQresultStatus(result);
            if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE ||
                status == PGRES_NONFATAL_ERROR) {
                if (!error) {
                    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
                    Errc code = classify_sqlstate(state ? state : "");
                    if (PQstatus(conn) == CONNECTION_BAD) {
                        code = Errc::kDbUnavailable;
                        broken = true;
                    }
                    // SQLSTATE and the primary message only: DETAIL and CONTEXT can quote the
                    // data (a user's message text), and errors end up in logs.
                    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
                    error = Error{code, std::string(state ? state : "?????") + ": " + (primary ? primary : "error")};
                }
                continue;
            }
            if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                co_return fail(Errc::kInternal, "COPY is not supported");
            }
            last = std::move(rows);
        }
        if (PQstatus(conn) == CONNECTION_BAD) {
            co_return fail(Errc::kDbUnavailable, "connection lost");
        }
        if (error) {
            co_return *error;
        }
        co_return last;
    }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

bool Connection::broken() const noexcept {
    return impl_->broken || PQstatus(impl_->conn) != CONNECTION_OK;
}

bool Connection::in_transaction() const noexcept {
    return PQtransactionStatus(impl_->conn) != PQTRANS_IDLE;
}

asio::awaitable<Result<std::unique_ptr<Connection>>> Connection::connect(
    const ConnectionSettings& settings) {
    // expand_dbname=1: "dbname" may hold a whole URI or key=value string.
    const char* keywords[] = {"dbname", "application_name", "client_encoding", nullptr};
    const char* values[] = {settings.conninfo.c_str(), settings.application_name.c_str(), "UTF8",
                            nullptr};
    auto impl = std::make_unique<Impl>();
    impl->server_statement_timeout = settings.statement_timeout;
    impl->conn = PQconnectStartParams(keywords, values, 1);
    if (impl->conn == nullptr) {
        co_return Error{Errc::kDbUnavailable, "out of memory starting a connection"};
    }
    if (PQstatus(impl->conn) == CONNECTION_BAD) {
        co_return impl->fail(Errc::kDbUnavailable, "PQconnectStartParams");
    }
    const auto deadline = std::chrono::steady_clock::now() + settings.connect_timeout;
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK) {
        if (poll == PGRES_POLLING_FAILED) {
            co_return impl->fail(Errc::kDbUnavailable, "connecting to the database");
        }
        // The socket can change between polls (SSL/GSS retries, several hosts): fetch it anew.
        const int fd = PQsocket(impl->conn);
        if (fd < 0) {
            co_return impl->fail(Errc::kDbUnavailable, "PQsocket");
        }
        const Waited w = co_await wait_socket_once(
            fd, poll == PGRES_POLLING_READING ? Wait::kRead : Wait::kWrite, deadline);
        if (w == Waited::kTimedOut) {
            co_return impl->fail(Errc::kDbUnavailable, "timed out connecting to the database");
        }
        poll = PQconnectPoll(impl->conn);
    }
    PQsetNoticeReceiver(impl->conn, log_notice, nullptr);
    if (PQsetnonblocking(impl->conn, 1) != 0) {
        co_return impl->fail(Errc::kDbUnavailable, "PQsetnonblocking");
    }
    std::unique_ptr<Connection> connection(new Connection(std::move(impl)));
    // A schema-only search_path: objects planted elsewhere can never shadow ours. (Plans stay
    // PostgreSQL's choice: forcing generic plans saved the batch statements their planning, but a
    // generic plan made while a table was small kept hashing all of it once it had grown.)
    // No JIT: every statement here is short, and once a table's estimates grow past
    // jit_above_cost, compiling a plan costs tens of milliseconds more than running it
    // (bench/events.sh drained a backlog at 500-900 events/s with JIT, 3,050/s without).
    const std::string setup =
        "SET search_path = wagate, pg_catalog; SET jit = off; SET statement_timeout = " +
        std::to_string(settings.statement_timeout.count()) +
        "; SET idle_in_transaction_session_timeout = " +
        std::to_string(std::max<long long>(settings.statement_timeout.count() * 4, 10000));
    auto set = co_await connection->execute_simple(setup, settings.connect_timeout);
    if (!set) {
        co_return set.error();
    }
    co_return connection;
}

asio::awaitable<Result<Rows>> Connection::execute(const Statement& statement, const Params& params) {
    Impl& s = *impl_;
    // The client-side deadline sits past the server's statement_timeout, so a slow query normally
    // ends with the server's 57014 and the connection stays usable (and a lock wait is ended by
    // the server, which then releases what the transaction held).
    const auto deadline = std::chrono::steady_clock::now() +
                          std::max(statement.timeout, s.server_statement_timeout) +
                          std::chrono::milliseconds(1000);
    if (statement.planning == Planning::kEachTime) {
        if (PQsendQueryParams(s.conn, statement.sql, params.size(), nullptr, params.values(), params.lengths(),
                              nullptr, 0) != 1) {
            co_return s.fail(Errc::kDbUnavailable, "PQsendQueryParams");
        }
    } else {
        if (!s.prepared.contains(statement.name)) {
            if (PQsendPrepare(s.conn, statement.name, statement.sql, 0, nullptr) != 1) {
                co_return s.fail(Errc::kDbUnavailable, "PQsendPrepare");
            }
            auto flushed = co_await s.flush(deadline);
            if (!flushed) {
                co_return flushed.error();
            }
            auto prepared = co_await s.collect(deadline);
            if (!prepared) {
                co_return prepared.error();
            }
            s.prepared.insert(statement.name);
        }
        if (PQsendQueryPrepared(s.conn, statement.name, params.size(), params.values(), params.lengths(), nullptr,
                                0) != 1) {
            co_return s.fail(Errc::kDbUnavailable, "PQsendQueryPrepared");
        }
    }
    auto flushed = co_await s.flush(deadline);
    if (!flushed) {
        co_return flushed.error();
    }
    co_return co_await s.collect(deadline);
}

asio::awaitable<Result<Rows>> Connection::execute_simple(std::string_view sql,
                                                         std::chrono::milliseconds timeout) {
    Impl& s = *impl_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string text(sql);
    if (PQsendQuery(s.conn, text.c_str()) != 1) {
        co_return s.fail(Errc::kDbUnavailable, "PQsendQuery");
    }
    auto flushed = co_await s.flush(deadline);
    if (!flushed) {
        co_return flushed.error();
    }
    co_return co_await s.collect(deadline);
}

}  // namespace wagate::pg
