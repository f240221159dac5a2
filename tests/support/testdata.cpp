#include "testdata.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace edgelens::test {

QString sharedDir()
{
    return qEnvironmentVariable("EDGELENS_SHARED_DIR", QStringLiteral(EDGELENS_DEFAULT_SHARED_DIR));
}

QString sharedPath(const QString &relative)
{
    return QDir(sharedDir()).filePath(relative);
}

QString samplesDir()
{
    return sharedPath(QStringLiteral("data/samples"));
}

QString samplePath(const QString &name)
{
    return QDir(samplesDir()).filePath(name);
}

QByteArray readSample(const QString &name)
{
    return readFile(samplePath(name));
}

QString binDir()
{
    return qEnvironmentVariable("EDGELENS_BIN_DIR", QStringLiteral(EDGELENS_DEFAULT_BIN_DIR));
}

QString executablePath(const QString &program)
{
    return QDir(binDir()).filePath(program);
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return false;
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit();
}

QStringList filesUnder(const QString &root, const QStringList &nameFilters, QDir::Filters filters)
{
    QStringList files;
    QDirIterator it(root, nameFilters, filters, QDirIterator::Subdirectories);
    while (it.hasNext())
        files.append(QDir(root).relativeFilePath(it.next()));
    files.sort();
    return files;
}

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

bool missingIsFailure()
{
    const QString ci = qEnvironmentVariable("CI").toLower();
    return ci == QLatin1String("true") || ci == QLatin1String("1");
}

QString missingShared(const QString &relative)
{
    const QString path = sharedPath(relative);
    if (QFileInfo::exists(path))
        return QString();
    return QStringLiteral("%1 is missing (shared folder %2; set EDGELENS_SHARED_DIR)").arg(path, sharedDir());
}

} // namespace edgelens::test
