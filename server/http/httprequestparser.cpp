#include "httprequestparser.h"

#include <cctype>
#include <cstring>
#include <optional>

namespace edgelens {

namespace {

// RFC 9110 5.6.2: the characters of a token (method, header name).
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool isToken(const QByteArray &text)
{
    if (text.isEmpty())
        return false;
    for (const char c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

// Field values: visible characters, spaces, tabs and obs-text; no other control character.
bool isFieldValue(const QByteArray &text)
{
    for (const char c : text) {
        const auto u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return false;
    }
    return true;
}

QByteArray trimmedSpaces(const QByteArray &text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && (text.at(begin) == ' ' || text.at(begin) == '\t'))
        ++begin;
    while (end > begin && (text.at(end - 1) == ' ' || text.at(end - 1) == '\t'))
        --end;
    return text.mid(begin, end - begin);
}

constexpr int kMaxHeaderFields = 100;
constexpr qsizetype kMaxLengthDigits = 15; // far above any body limit, far below overflow

} // namespace

HttpRequestParser::HttpRequestParser(const Limits &limits)
    : m_limits(limits)
{
}

void HttpRequestParser::next()
{
    m_state = State::Head;
    m_head.clear();
    m_request = HttpRequest();
    m_bodyExpected = 0;
    m_errorStatus = 0;
    m_errorMessage.clear();
}

HttpRequest HttpRequestParser::takeRequest()
{
    return std::exchange(m_request, HttpRequest());
}

void HttpRequestParser::fail(int status, const QString &message)
{
    m_state = State::Failed;
    m_errorStatus = status;
    m_errorMessage = message;
}

qsizetype HttpRequestParser::feed(const char *data, qsizetype size)
{
    qsizetype taken = 0;
    if (m_state == State::Head) {
        // RFC 9112 2.2: empty lines before a request line are ignored (some clients end a
        // body with an extra CRLF).
        while (m_head.isEmpty() && taken < size && (data[taken] == '\r' || data[taken] == '\n'))
            ++taken;
        if (taken == size)
            return taken;
        const qsizetype before = m_head.size();
        const qsizetype room = m_limits.maxHeadBytes + 4 - before;
        const qsizetype chunk = qMin(size - taken, qMax<qsizetype>(0, room));
        m_head.append(data + taken, chunk);
        const qsizetype end = m_head.indexOf("\r\n\r\n", qMax<qsizetype>(0, before - 3));
        if (end < 0) {
            // Up to 3 bytes of a terminator may have come: only past them is the head too long.
            if (m_head.size() >= m_limits.maxHeadBytes + 4)
                fail(431, QStringLiteral("request head over %1 bytes").arg(m_limits.maxHeadBytes));
            return taken + chunk;
        }
        const qsizetype headBytes = end + 4;
        taken += headBytes - before;
        m_head.truncate(end);
        if (m_head.size() > m_limits.maxHeadBytes) {
            fail(431, QStringLiteral("request head over %1 bytes").arg(m_limits.maxHeadBytes));
            return taken;
        }
        // The body is taken by the next call: the connection reserves room for it first.
        parseHead();
        return taken;
    }
    if (m_state == State::Body) {
        const qint64 missing = m_bodyExpected - m_request.body.size();
        const qsizetype chunk = qsizetype(qMin<qint64>(missing, size - taken));
        if (m_request.body.isEmpty() && chunk > 0)
            m_request.body.reserve(qsizetype(m_bodyExpected)); // one allocation, not a doubling series
        m_request.body.append(data + taken, chunk);
        taken += chunk;
        if (m_request.body.size() == m_bodyExpected)
            m_state = State::Complete;
    }
    return taken;
}

void HttpRequestParser::parseHead()
{
    const QByteArray head = std::exchange(m_head, QByteArray());
    const QList<QByteArray> lines = head.split('\n');
    // Every line but the last ended in "\r\n" (split at '\n'); the last had its CRLF cut off.
    QList<QByteArray> clean;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines.at(i);
        if (i + 1 < lines.size()) {
            if (!line.endsWith('\r')) {
                fail(400, QStringLiteral("a line of the request head ends without CR LF"));
                return;
            }
            line.chop(1);
        }
        if (line.contains('\r') || line.contains('\0')) {
            fail(400, QStringLiteral("a stray CR or NUL in the request head"));
            return;
        }
        clean.append(line);
    }
    if (!parseRequestLine(clean.first()))
        return;
    if (clean.size() - 1 > kMaxHeaderFields) {
        fail(431, QStringLiteral("more than %1 header fields").arg(kMaxHeaderFields));
        return;
    }
    for (qsizetype i = 1; i < clean.size(); ++i) {
        if (!parseHeaderLine(clean.at(i)))
            return;
    }
    if (!readFraming())
        return;
    m_state = m_bodyExpected > 0 ? State::Body : State::Complete;
}

bool HttpRequestParser::parseRequestLine(const QByteArray &line)
{
    const QList<QByteArray> parts = line.split(' ');
    if (parts.size() != 3 || !isToken(parts.at(0)) || parts.at(1).isEmpty()) {
        fail(400, QStringLiteral("malformed request line (expected METHOD /path HTTP/1.1)"));
        return false;
    }
    const QByteArray &target = parts.at(1);
    for (const char c : target) {
        const auto u = uchar(c);
        if (u <= 0x20 || u >= 0x7F) {
            fail(400, QStringLiteral("the request target holds a character that must be percent-encoded"));
            return false;
        }
    }
    if (!target.startsWith('/') && target != "*") {
        fail(400, QStringLiteral("the request target must be a path (origin form)"));
        return false;
    }
    const QByteArray &version = parts.at(2);
    const bool wellFormed = version.size() == 8 && version.startsWith("HTTP/") && std::isdigit(uchar(version.at(5)))
        && version.at(6) == '.' && std::isdigit(uchar(version.at(7)));
    if (!wellFormed) {
        fail(400, QStringLiteral("malformed HTTP version"));
        return false;
    }
    if (version.at(5) != '1' || (version.at(7) != '0' && version.at(7) != '1')) {
        fail(505, QStringLiteral("HTTP version %1 is not supported (this server speaks HTTP/1.0 and 1.1)")
                      .arg(QString::fromLatin1(version.mid(5))));
        return false;
    }
    m_request.method = parts.at(0);
    m_request.target = target;
    m_request.minorVersion = version.at(7) - '0';
    return true;
}

bool HttpRequestParser::parseHeaderLine(const QByteArray &line)
{
    if (line.startsWith(' ') || line.startsWith('\t')) {
        fail(400, QStringLiteral("folded header lines are not accepted"));
        return false;
    }
    const qsizetype colon = line.indexOf(':');
    const QByteArray name = colon < 0 ? QByteArray() : line.left(colon);
    // No whitespace between name and colon (RFC 9112 5.1): a name read two ways smuggles requests.
    if (!isToken(name)) {
        fail(400, QStringLiteral("malformed header field"));
        return false;
    }
    const QByteArray value = trimmedSpaces(line.mid(colon + 1));
    if (!isFieldValue(value)) {
        fail(400, QStringLiteral("a control character in a header value"));
        return false;
    }
    m_request.headers.append({name.toLower(), value});
    return true;
}

bool HttpRequestParser::readFraming()
{
    HttpRequest &r = m_request;
    if (!r.headerValues("transfer-encoding").isEmpty()) {
        if (!r.headerValues("content-length").isEmpty()) {
            fail(400, QStringLiteral("both Transfer-Encoding and Content-Length"));
            return false;
        }
        // Without a length the size cannot be checked before the body arrives.
        fail(411, QStringLiteral("send the body with a Content-Length (chunked uploads are not accepted)"));
        return false;
    }
    std::optional<qint64> length;
    for (const QByteArray &field : r.headerValues("content-length")) {
        for (const QByteArray &item : field.split(',')) {
            const QByteArray digits = trimmedSpaces(item);
            bool ok = !digits.isEmpty() && digits.size() <= kMaxLengthDigits;
            for (const char c : digits)
                ok = ok && c >= '0' && c <= '9';
            if (!ok) {
                fail(400, QStringLiteral("invalid Content-Length"));
                return false;
            }
            const qint64 value = digits.toLongLong();
            if (length && *length != value) {
                fail(400, QStringLiteral("conflicting Content-Length values"));
                return false;
            }
            length = value;
        }
    }
    m_bodyExpected = length.value_or(0);
    if (m_bodyExpected > m_limits.maxBodyBytes) {
        fail(413, QStringLiteral("the body of %1 bytes exceeds this server's limit of %2 bytes")
                      .arg(m_bodyExpected)
                      .arg(m_limits.maxBodyBytes));
        return false;
    }
    const QList<QByteArray> hosts = r.headerValues("host");
    if (hosts.size() > 1 || (r.minorVersion == 1 && hosts.isEmpty())) {
        fail(400, QStringLiteral("an HTTP/1.1 request needs exactly one Host header"));
        return false;
    }
    const QList<QByteArray> expect = r.headerValues("expect");
    if (!expect.isEmpty()) {
        if (expect.size() != 1 || expect.first().toLower() != "100-continue") {
            fail(417, QStringLiteral("only \"Expect: 100-continue\" is understood"));
            return false;
        }
        r.expectContinue = r.minorVersion == 1 && m_bodyExpected > 0;
    }
    // HTTP/1.0 connections are closed after their answer, whatever they ask for.
    r.keepAlive = r.minorVersion == 1;
    for (const QByteArray &field : r.headerValues("connection")) {
        for (const QByteArray &option : field.split(',')) {
            if (trimmedSpaces(option).toLower() == "close")
                r.keepAlive = false;
        }
    }
    return true;
}

} // namespace edgelens
