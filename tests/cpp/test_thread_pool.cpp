// The kernels' fork-join pool (cpu/thread_pool.h): every chunk runs exactly once whatever the thread count,
// exceptions reach the caller, nested and concurrent regions run serially instead of deadlocking, and a
// forked child (no workers) still runs its regions.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "cpu/thread_pool.h"

namespace ckeras::cpu {
namespace {

void expect_each_chunk_once(int64_t chunks, int threads) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(chunks));
    for (auto& h : hits) h = 0;
    pool_for_chunks(chunks, threads, [&](int64_t c) {
        EXPECT_TRUE(pool_in_region());
        hits[static_cast<size_t>(c)]++;
    });
    for (int64_t c = 0; c < chunks; ++c) ASSERT_EQ(hits[static_cast<size_t>(c)], 1) << "chunk " << c;
    EXPECT_FALSE(pool_in_region());
}

TEST(ThreadPool, EveryChunkRunsOnce) {
    for (int threads : {1, 2, 3, 8})
        for (int64_t chunks : {0, 1, 2, 3, 7, 64, 1000}) expect_each_chunk_once(chunks, threads);
    for (int i = 0; i < 2000; ++i) expect_each_chunk_once(2, 2);  // back-to-back regions, as in a training step
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
    for (int threads : {1, 2, 4}) {
        std::atomic<int> ran{0};
        EXPECT_THROW(pool_for_chunks(16, threads, [&](int64_t c) {
                         ran++;
                         if (c == 5) throw std::runtime_error("chunk 5");
                     }),
                     std::runtime_error);
        EXPECT_GE(ran, 6);    // chunks 0-5 at least (the caller claims in order)...
        EXPECT_LE(ran, 16);   // ...and none twice; after the failure no new chunk starts
        expect_each_chunk_once(9, threads);  // and the pool is usable afterwards
    }
}

TEST(ThreadPool, NestedRegionsRunSerially) {
    std::atomic<int> inner{0};
    pool_for_chunks(4, 2, [&](int64_t) {
        const std::thread::id me = std::this_thread::get_id();
        pool_for_chunks(8, 2, [&](int64_t) {
            EXPECT_EQ(std::this_thread::get_id(), me);
            inner++;
        });
    });
    EXPECT_EQ(inner, 32);
}

TEST(ThreadPool, ConcurrentCallersBothFinish) {
    std::atomic<int64_t> total{0};
    auto caller = [&] {
        for (int i = 0; i < 500; ++i) pool_for_chunks(5, 2, [&](int64_t c) { total += c + 1; });
    };
    std::thread a(caller), b(caller);
    a.join();
    b.join();
    EXPECT_EQ(total, 2 * 500 * 15);
}

TEST(ThreadPool, ForkedChildRunsRegions) {
    pool_for_chunks(4, 2, [](int64_t) {});  // workers exist in the parent
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        alarm(20);  // a hang fails the test instead of blocking it
        std::atomic<int> n{0};
        pool_for_chunks(10, 2, [&](int64_t) { n++; });
        _exit(n == 10 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace ckeras::cpu
