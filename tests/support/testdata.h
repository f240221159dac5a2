#pragma once

// Where the shared models, sample photos and built programs are, and the small file chores
// every suite repeats. Paths come from the environment CTest sets (EDGELENS_SHARED_DIR,
// EDGELENS_BIN_DIR), falling back to this build's own ../shared and bin folders.

#include <QByteArray>
#include <QDir>
#include <QString>
#include <QStringList>
#include <QTest>

namespace edgelens::test {

QString sharedDir();
QString sharedPath(const QString &relative); // sharedPath("models/coco.names")
QString samplesDir();                         // <shared>/data/samples (nine JPEGs)
QString samplePath(const QString &name);      // samplePath("soccer.jpg")
QByteArray readSample(const QString &name);   // empty when the sample is missing
QString binDir();
QString executablePath(const QString &program); // executablePath("edgelens-cli")

QByteArray readFile(const QString &path); // empty when it cannot be read
// Creates the parent folders; false when the file cannot be written completely.
bool writeFile(const QString &path, const QByteArray &bytes);
// Files below root, relative to it, sorted. nameFilters as for QDir ("*.json"); empty: all.
QStringList filesUnder(const QString &root, const QStringList &nameFilters = {},
                       QDir::Filters filters = QDir::Files);
QString sha256Hex(const QByteArray &bytes);

// CI sets CI=true: there the shared data and Debian's data packages are part of the setup, so
// their absence is a failure. On a developer's machine it is an honest skip.
bool missingIsFailure();
// Empty when sharedPath(relative) exists; otherwise what is missing and where it was looked for.
QString missingShared(const QString &relative);

} // namespace edgelens::test

// Skips the test (the whole suite in initTestCase) when the condition does not hold, or fails it
// under CI=true. A real skip shows as "Skipped" in CTest (see edgelens_add_test).
#define EDGELENS_REQUIRE(condition, message)                                                       \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            if (edgelens::test::missingIsFailure())                                                \
                QFAIL(qPrintable(QStringLiteral("required under CI=true: ") + QString(message)));  \
            QSKIP(qPrintable(QString(message)));                                                   \
        }                                                                                          \
    } while (false)

// EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg"): the path below the shared folder exists.
#define EDGELENS_REQUIRE_SHARED(relative)                                                          \
    do {                                                                                           \
        const QString edgelensMissing_ = edgelens::test::missingShared(relative);                 \
        EDGELENS_REQUIRE(edgelensMissing_.isEmpty(), edgelensMissing_);                            \
    } while (false)
