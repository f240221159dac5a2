#pragma once

#include <QByteArray>
#include <QString>

namespace edgelens {

// The one way the app and the CLI read an input image file: bounded (a file larger than any
// server would accept is refused before it is read), with errors worded for a person.
// Blocking: call it on a worker thread.
class ImageFileReader final
{
public:
    struct Result
    {
        QByteArray bytes;
        QString error; // empty on success
        bool ok() const { return error.isEmpty(); }
    };

    // Larger files are refused: the default is the server's default frame limit.
    static qint64 defaultMaxBytes();
    static Result read(const QString &path, qint64 maxBytes = defaultMaxBytes());
};

} // namespace edgelens
