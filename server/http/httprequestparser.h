#pragma once

#include "http/httprequest.h"

#include <QByteArray>
#include <QString>

namespace edgelens {

// Reads HTTP/1.0 and 1.1 requests from bytes as they arrive, one request at a time: it takes
// no byte past the end of the current request, so the connection decides when to read the
// next one (answers go out in request order and a client that does not read its answers
// stops being read). Strict where lenience lets one request be read two ways: a conflicting
// or malformed Content-Length, Transfer-Encoding (only Content-Length bodies are accepted),
// whitespace before a colon and folded header lines are refused; a version other than 1.0
// and 1.1 gets 505. Sizes are checked from the head, before the body is read. Pure (no
// sockets, no clock): tests/fuzz/fuzz_httprequest feeds it arbitrary bytes.
class HttpRequestParser final
{
public:
    enum class State {
        Head,     // reading the request line and headers
        Body,     // the head was accepted; bodyExpected() bytes of body to come
        Complete, // request() is whole; call next() before feeding the next one
        Failed,   // errorStatus() / errorMessage() say what to answer; the connection closes
    };

    struct Limits
    {
        qsizetype maxHeadBytes = 64 * 1024;
        qint64 maxBodyBytes = 32 * 1024 * 1024;
    };

    explicit HttpRequestParser(const Limits &limits);

    // Takes bytes of the current request from `data` and returns how many it took: it stops at
    // the end of the head (so the caller can look at it before the body is read), at the end
    // of the request, and on failure.
    qsizetype feed(const char *data, qsizetype size);
    qsizetype feed(const QByteArray &bytes) { return feed(bytes.constData(), bytes.size()); }

    State state() const { return m_state; }
    bool midRequest() const { return m_state == State::Body || (m_state == State::Head && !m_head.isEmpty()); }
    // After the head: the whole body's size, and how much of it has arrived.
    qint64 bodyExpected() const { return m_bodyExpected; }
    qint64 bodyReceived() const { return m_request.body.size(); }
    // The head of the current request (complete from State::Body on).
    const HttpRequest &request() const { return m_request; }
    HttpRequest takeRequest();

    int errorStatus() const { return m_errorStatus; }
    QString errorMessage() const { return m_errorMessage; }

    // Ready for the next request on the same connection.
    void next();

private:
    void parseHead();
    bool parseRequestLine(const QByteArray &line);
    bool parseHeaderLine(const QByteArray &line);
    bool readFraming();
    void fail(int status, const QString &message);

    Limits m_limits;
    State m_state = State::Head;
    QByteArray m_head;
    HttpRequest m_request;
    qint64 m_bodyExpected = 0;
    int m_errorStatus = 0;
    QString m_errorMessage;
};

} // namespace edgelens
