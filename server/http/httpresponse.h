#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

namespace edgelens {

// One answer on the HTTP port, and its bytes on the wire (HTTP/1.1 status line, headers with a
// Content-Length, body).
struct HttpResponse
{
    int status = 200;
    QByteArray contentType = "application/json";
    QByteArray body;
    int retryAfterSeconds = 0; // > 0: a Retry-After header (429, 503)
    QList<QPair<QByteArray, QByteArray>> headers;

    // With "Connection: close" when `close`; a HEAD request gets the head only.
    QByteArray serialize(bool close, bool headOnly = false) const;
    static QByteArray reasonPhrase(int status);
};

} // namespace edgelens
