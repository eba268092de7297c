// Implementation of the C++/PostgreSQL error boundary; the rules are in pg_boundary.hpp.
#include "electric_shapes/pg_boundary.hpp"

namespace {

// Copies at most size-1 bytes and always terminates.
void copy_text(char *target, size_t size, const char *source)
{
    strlcpy(target, source ? source : "", size);
}

}  // namespace

namespace es {

void CaughtError::take(const es::UserError &e)
{
    copy_text(sqlstate, sizeof(sqlstate), e.sqlstate.size() == 5 ? e.sqlstate.c_str() : "XX000");
    copy_text(message, sizeof(message), e.what());
    copy_text(detail, sizeof(detail), e.detail.c_str());
    copy_text(hint, sizeof(hint), e.hint.c_str());
}

void CaughtError::take(const std::exception &e, const char *state)
{
    copy_text(sqlstate, sizeof(sqlstate), state);
    copy_text(message, sizeof(message), e.what());
    detail[0] = '\0';
    hint[0] = '\0';
}

void raise_caught(const char *sqlstate, const char *message, const char *detail, const char *hint)
{
    int code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
    ereport(ERROR, (errcode(code), errmsg("%s", message),
                    detail[0] ? errdetail("%s", detail) : 0, hint[0] ? errhint("%s", hint) : 0));
    pg_unreachable();
}

bool pg_try(void (*fn)(void *), void *arg, char **message)
{
    MemoryContext caller_context = CurrentMemoryContext;
    volatile bool ok = true;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        // Only a data exception (class 22: division by zero, overflow, an invalid value, an
        // untranslatable character) is about the data fn was given. Everything else says the
        // statement must stop: query cancel and statement_timeout (57014), out of memory (53200),
        // stack depth (54001), internal errors (XX000), a dropped catalog object. Those go on up
        // untouched, so that the caller's transaction aborts and a slot does not move past rows
        // it never sent.
        MemoryContextSwitchTo(caller_context);
        ErrorData *error = CopyErrorData();
        if (!survivable_error(error->sqlerrcode)) {
            FreeErrorData(error);
            PG_RE_THROW();
        }
        FlushErrorState();
        if (message)
            *message = error->message ? pstrdup(error->message) : pstrdup("unknown error");
        FreeErrorData(error);
        ok = false;
    }
    PG_END_TRY();
    return ok;
}

bool survivable_error(int sqlerrcode)
{
    return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION;
}

}  // namespace es
