#include "boundedfile.h"

#include <QFile>

namespace edgelens {

std::optional<QByteArray> BoundedFile::read(const QString &path, qint64 maxBytes, const QString &what, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot open: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    if (file.size() > maxBytes) {
        if (error)
            *error = QStringLiteral("%1: %2 bytes is too large for %3 (at most %4 MiB)")
                         .arg(path)
                         .arg(file.size())
                         .arg(what)
                         .arg(maxBytes / (1024 * 1024));
        return std::nullopt;
    }
    return file.readAll();
}

} // namespace edgelens
