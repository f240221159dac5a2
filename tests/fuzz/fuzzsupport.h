#pragma once

// Shared by the libFuzzer harnesses: quiet Qt logging (parsers warn about every odd input,
// which would drown libFuzzer's own output and slow it down), and a hard stop that libFuzzer
// records as a crash with the input that caused it.

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <cstdio>
#include <cstdlib>

namespace edgelens::fuzz {

inline void quietQtMessages()
{
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &, const QString &message) {
        if (type == QtFatalMsg) {
            std::fprintf(stderr, "qFatal: %s\n", qPrintable(message));
            std::abort();
        }
    });
}

// A broken invariant: abort so that libFuzzer keeps the input as crash-<sha1>.
[[noreturn]] inline void invariantBroken(const char *what, const QByteArray &detail = {})
{
    std::fprintf(stderr, "invariant broken: %s\n%s\n", what, detail.constData());
    std::abort();
}

inline QByteArray bytes(const uint8_t *data, size_t size)
{
    return QByteArray(reinterpret_cast<const char *>(data), qsizetype(size));
}

} // namespace edgelens::fuzz

#define FUZZ_CHECK(condition, detail)                                                              \
    do {                                                                                           \
        if (!(condition))                                                                          \
            edgelens::fuzz::invariantBroken(#condition, detail);                                   \
    } while (false)
