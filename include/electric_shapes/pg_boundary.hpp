// The boundary between C++ and PostgreSQL's error handling, in one place.
//
// PostgreSQL reports errors with ereport(), which is a longjmp: it skips C++ destructors. C++
// reports errors with exceptions, which must never unwind through PostgreSQL's C frames. The
// rules every file of this project follows:
//
//  1. Every extern "C" entry point (SQL-callable function, output plugin callback, hook) runs its
//     body inside es::guarded(). A C++ exception is caught there, its text copied into plain
//     storage, and the PostgreSQL error is raised only after the catch block has ended.
//  2. While a PostgreSQL function that can ereport is being called, no C++ object with a
//     non-trivial destructor lives on the stack of any frame between that call and the nearest
//     guarded(). Long-lived C++ state is owned by a memory context (see es::attach_to_context),
//     and scratch buffers are members of that state, reused rather than made per call.
//  3. A PostgreSQL error is caught and survived (es::pg_try) only around work that holds no
//     resources: evaluating a shape's filter over a decoded row.
#pragma once

#include "electric_shapes/pure/errors.hpp"
#include "electric_shapes/postgres.hpp"

namespace es {

// Raises the PostgreSQL error described by a caught C++ error; never returns.
[[noreturn]] void raise_caught(const char *sqlstate, const char *message, const char *detail,
                               const char *hint);

// Copies what a caught exception says into fixed storage that outlives the catch block. It is
// left uninitialized until take() fills every field: guarded() wraps every decoded change, and
// zeroing 2.5 kB there each time cost more than a selective shape's whole filtering.
struct CaughtError {
    char sqlstate[6];
    char message[1024];
    char detail[1024];
    char hint[512];
    void take(const es::UserError &e);
    void take(const std::exception &e, const char *sqlstate);
};

// Runs fn; a C++ exception it throws becomes an ereport(ERROR) raised outside the catch block.
template <typename Fn>
auto guarded(Fn &&fn) -> decltype(fn())
{
    CaughtError caught;
    try {
        return fn();
    } catch (const es::UserError &e) {
        caught.take(e);
    } catch (const std::bad_alloc &e) {
        caught.take(e, "53200");
    } catch (const std::exception &e) {
        caught.take(e, "XX000");
    } catch (...) {
        caught.take(std::runtime_error("unknown C++ exception"), "XX000");
    }
    raise_caught(caught.sqlstate, caught.message, caught.detail, caught.hint);
}

// Runs fn, catching a PostgreSQL error it raises. Returns false (error flushed, its message in
// *message when given, allocated in the caller's memory context) instead of propagating it. Only
// for code that holds no locks, buffers or other resources when it may fail (rule 3).
bool pg_try(void (*fn)(void *), void *arg, char **message);

// Ties a C++ object's lifetime to a memory context: it is deleted when the context is reset or
// deleted, also on error paths where PostgreSQL calls none of our shutdown callbacks.
template <typename T>
void attach_to_context(MemoryContext context, T *object)
{
    auto *callback = static_cast<MemoryContextCallback *>(
        MemoryContextAllocZero(context, sizeof(MemoryContextCallback)));
    callback->func = [](void *arg) { delete static_cast<T *>(arg); };
    callback->arg = object;
    MemoryContextRegisterResetCallback(context, callback);
}

}  // namespace es
