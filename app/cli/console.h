#pragma once

// The CLI's two channels: what scripts read goes to stdout; progress, warnings and errors go
// to stderr. Every command writes through these two streams, flushed per line, so nothing
// arrives out of order or late. Header-only because evalcommand.cpp is also compiled into
// tst_evalcommand, which does not build the rest of this folder.

#include <QString>
#include <QTextStream>

#include <cstdio>

namespace edgelens::cli {

inline QTextStream &standardOutput()
{
    static QTextStream stream(stdout);
    return stream;
}

inline QTextStream &standardError()
{
    static QTextStream stream(stderr);
    return stream;
}

inline void printOut(const QString &line)
{
    standardOutput() << line << '\n' << Qt::flush;
}

inline void printErr(const QString &line)
{
    standardError() << line << '\n' << Qt::flush;
}

} // namespace edgelens::cli
