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
//     resources and belongs to one shape: evaluating its filter over a decoded row, planning its
//     filter, hashing its index constants, rendering the values of a message. Only data
//     exceptions (SQLSTATE class 22) are survived; a cancel, a timeout, out of memory, stack
//     depth or an internal error is raised again, so the statement fails instead of a row being
//     silently dropped.
#pragma once

#include <new>
#include <type_traits>

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

// Runs fn, catching a PostgreSQL data exception it raises (rule 3). Returns false (error flushed,
// its message in *message when given, allocated in the caller's memory context) instead of
// propagating it; any other error is raised again, unchanged. Only for code that holds no locks,
// buffers or other resources when it may fail, and that throws no C++ exception.
bool pg_try(void (*fn)(void *), void *arg, char **message);

// True for the errors pg_try survives: data exceptions (class 22).
bool survivable_error(int sqlerrcode);

// pg_try for a callable that may also throw C++ exceptions: they are caught inside the
// PostgreSQL try block (a C++ exception must not unwind through it) and thrown again after it.
// The frames between fn's body and this call must hold no object with a destructor (rule 2).
template <typename Fn>
bool pg_try_call(Fn &&fn, char **message)
{
    using Callable = std::remove_reference_t<Fn>;
    struct Call {
        Callable *fn;
        bool bad_alloc;
        bool failed;
        char what[256];
    };
    Call call{&fn, false, false, {}};
    bool ok = pg_try(
        [](void *arg) {
            auto *c = static_cast<Call *>(arg);
            try {
                (*c->fn)();
            } catch (const std::bad_alloc &) {
                c->bad_alloc = true;
            } catch (const std::exception &e) {
                c->failed = true;
                strlcpy(c->what, e.what(), sizeof(c->what));
            } catch (...) {
                c->failed = true;
                strlcpy(c->what, "unknown C++ exception", sizeof(c->what));
            }
        },
        &call, message);
    if (call.bad_alloc)
        throw std::bad_alloc();
    if (call.failed)
        throw std::runtime_error(call.what);
    return ok;
}

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
