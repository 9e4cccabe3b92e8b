#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <wagate/core/error.hpp>

namespace wagate::store {

/// Group commit for independent items: items submitted while every flusher is busy wait and are
/// flushed together by the next free one, so one commit (one WAL flush) serves many requests.
/// `flush` receives a batch and must complete every entry of it. Thread-safe.
template <class Item, class Out>
class GroupCommit : public std::enable_shared_from_this<GroupCommit<Item, Out>> {
public:
    using Completion = boost::asio::any_completion_handler<void(Result<Out>)>;
    struct Entry {
        Item item;
        Completion completion;
        boost::asio::any_io_executor resume_on;  // the waiting coroutine's executor (its strand)
    };
    using Batch = std::vector<Entry>;
    using Flush = std::function<boost::asio::awaitable<void>(Batch&)>;
    /// What an item weighs (e.g. its bytes); a batch stops before `max_weight` (but holds at
    /// least one item).
    using Weight = std::function<std::size_t(const Item&)>;

    GroupCommit(boost::asio::any_io_executor executor, std::size_t max_batch, std::size_t max_flushers, Flush flush,
                Weight weight = {}, std::size_t max_weight = 0)
        : executor_(std::move(executor)),
          max_batch_(max_batch),
          max_flushers_(max_flushers),
          flush_(std::move(flush)),
          weight_(std::move(weight)),
          max_weight_(max_weight) {}

    /// Resumes the waiting coroutine on its own executor, not on the flusher's thread.
    static void complete(Entry& entry, Result<Out> result) {
        boost::asio::post(entry.resume_on, [c = std::move(entry.completion), r = std::move(result)]() mutable {
            std::move(c)(std::move(r));
        });
    }

    boost::asio::awaitable<Result<Out>> submit(Item item) {
        return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Result<Out>)>(
            [self = this->shared_from_this()](auto handler, Item&& pending) {
                boost::asio::any_io_executor resume_on = boost::asio::get_associated_executor(handler);
                self->enqueue(Entry{std::move(pending), Completion(std::move(handler)), resume_on});
            },
            boost::asio::use_awaitable, std::move(item));
    }

    /// Queues an entry again, its completion still pending: it goes with the next batch.
    void resubmit(Entry entry) { enqueue(std::move(entry)); }

private:
    void enqueue(Entry entry) {
        std::vector<Batch> batches;
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(entry));
            take(batches);
        }
        launch(std::move(batches));
    }

    void take(std::vector<Batch>& out) {
        while (flushers_ < max_flushers_ && !queue_.empty()) {
            const std::size_t n = std::min(queue_.size(), max_batch_);
            Batch batch;
            batch.reserve(n);
            std::size_t weight = 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (weight_) {
                    weight += weight_(queue_.front().item);
                    if (!batch.empty() && weight > max_weight_) {
                        break;
                    }
                }
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            ++flushers_;
            out.push_back(std::move(batch));
        }
    }

    void launch(std::vector<Batch> batches) {
        for (auto& batch : batches) {
            boost::asio::co_spawn(executor_, run(std::move(batch)), [self = this->shared_from_this()](std::exception_ptr e) {
                if (e) {
                    spdlog::error("group commit: unexpected exception");
                }
                std::vector<Batch> next;
                {
                    std::lock_guard lock(self->mutex_);
                    --self->flushers_;
                    self->take(next);
                }
                self->launch(std::move(next));
            });
        }
    }

    boost::asio::awaitable<void> run(Batch batch) { co_await flush_(batch); }

    boost::asio::any_io_executor executor_;
    std::size_t max_batch_;
    std::size_t max_flushers_;
    Flush flush_;
    Weight weight_;
    std::size_t max_weight_;
    std::mutex mutex_;  // guards queue_ and flushers_; never held across co_await
    std::deque<Entry> queue_;
    std::size_t flushers_ = 0;
};

/// The flush of a group commit owned by `owner` (anything with `awaitable<void> flush(Batch&)`):
/// it holds the owner only while a batch runs, so a batch in flight at shutdown cannot outlive it
/// unnoticed, and once the owner is gone every entry completes with `gone`.
template <class Item, class Out, class Owner>
typename GroupCommit<Item, Out>::Flush flush_while_alive(std::weak_ptr<Owner> owner, Error gone) {
    using Commit = GroupCommit<Item, Out>;
    return [owner = std::move(owner), gone = std::move(gone)](typename Commit::Batch& batch)
               -> boost::asio::awaitable<void> {
        auto self = owner.lock();
        if (!self) {
            for (auto& entry : batch) {
                Commit::complete(entry, gone);
            }
            co_return;
        }
        co_await self->flush(batch);
    };
}

}  // namespace wagate::store
