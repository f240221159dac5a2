#pragma once

// Where the shared models, sample photos and built programs are, and the small file chores
// every suite repeats. Paths come from the environment CTest sets (EDGELENS_SHARED_DIR,
// EDGELENS_BIN_DIR), falling back to this build's own ../shared and bin folders.

#include <QByteArray>
#include <QDir>
#include <QString>
#include <QStringList>

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

} // namespace edgelens::test
