#include "imagefilereader.h"

#include "protocol/protocol.h"

#include <QCoreApplication>
#include <QFile>

namespace edgelens {

qint64 ImageFileReader::defaultMaxBytes()
{
    return qint64(protocol::kDefaultMaxFrameBytes);
}

ImageFileReader::Result ImageFileReader::read(const QString &path, qint64 maxBytes)
{
    Result out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        out.error = QStringLiteral("cannot open: %1").arg(file.errorString());
        return out;
    }
    if (maxBytes > 0 && file.size() > maxBytes) {
        out.error = QStringLiteral("file too large (%1 MB, at most %2 MB)")
                        .arg(file.size() / (1024 * 1024))
                        .arg(maxBytes / (1024 * 1024));
        return out;
    }
    out.bytes = file.read(maxBytes > 0 ? maxBytes + 1 : file.size());
    if (maxBytes > 0 && out.bytes.size() > maxBytes) { // grew while we read it
        out.bytes.clear();
        out.error = QStringLiteral("file too large (more than %1 MB)").arg(maxBytes / (1024 * 1024));
    } else if (out.bytes.isEmpty()) {
        out.error = file.error() != QFileDevice::NoError ? QStringLiteral("cannot read: %1").arg(file.errorString())
                                                         : QStringLiteral("empty file");
    }
    return out;
}

} // namespace edgelens
