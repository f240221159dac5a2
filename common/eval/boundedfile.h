#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace edgelens {

// Reads a whole input file (annotations, labels, sidecars) after checking its size, so a wrong
// path (a video, a disk image) costs an error message, not the memory.
class BoundedFile final
{
public:
    // `what` names the file's role in the error: "a.txt: 70000000 bytes is too large for a
    // label file (at most 64 MiB)", "a.txt: cannot open: No such file or directory".
    static std::optional<QByteArray> read(const QString &path, qint64 maxBytes, const QString &what, QString *error);
};

} // namespace edgelens
