#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

namespace edgelens {

// One HTTP/1.x request as HttpRequestParser read it: the head checked (RFC 9112), the body
// complete. Header names are lower case; values have their surrounding whitespace removed.
struct HttpRequest
{
    QByteArray method;
    QByteArray target;   // as sent: "/v1/vision/detection?x=1"
    int minorVersion = 1; // HTTP/1.0 or HTTP/1.1
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    bool keepAlive = true;      // false: close the connection after the answer
    bool expectContinue = false;

    QByteArray path() const;                        // the target without its query
    QByteArray header(const QByteArray &name) const; // the first value of `name` (lower case), or empty
    QList<QByteArray> headerValues(const QByteArray &name) const; // every field of that name, in order
};

} // namespace edgelens
