#pragma once

// A live source named by a test (a stream's URL, a file): parsed, or the suite stops, since
// every later check would be about nothing. Header-only: only suites that link edgelens_live
// include it.

#include "live/streamspec.h"

#include <QString>
#include <QtGlobal>

namespace edgelens::test {

inline StreamSpec liveSpec(const QString &text)
{
    QString error;
    const std::optional<StreamSpec> spec = StreamSpec::parse(text, &error);
    if (!spec)
        qFatal("bad source %s: %s", qPrintable(text), qPrintable(error));
    return *spec;
}

} // namespace edgelens::test
