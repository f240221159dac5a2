#pragma once

// Soft assertions: a broken invariant in production logs where it happened and bails out of
// the function instead of crashing a server that is serving other clients, or an app holding
// hours of unsaved work. Debug builds still stop at the spot (Q_ASSERT) so tests catch it.

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcSoftAssert)

#define EL_RETURN_VALUE_IF_FAIL(condition, value)                                                  \
    do {                                                                                           \
        if (Q_UNLIKELY(!(condition))) {                                                            \
            qCCritical(lcSoftAssert, "soft assertion failed: %s at %s:%d", #condition, __FILE__,   \
                       __LINE__);                                                                  \
            Q_ASSERT(condition);                                                                   \
            return value;                                                                          \
        }                                                                                          \
    } while (false)

#define EL_RETURN_IF_FAIL(condition) EL_RETURN_VALUE_IF_FAIL(condition, )
