#include "multipartformdata.h"

#include <QUrlQuery>

namespace edgelens {

namespace {

QByteArray mediaType(const QByteArray &contentType)
{
    const int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed().toLower();
}

// RFC 2046: a boundary is 1 to 70 characters.
constexpr int kMaxBoundary = 70;
// Part headers are a few short lines; more than this is not a form.
constexpr int kMaxPartHeaderBytes = 16 * 1024;

} // namespace

QByteArray MultipartFormData::headerParameter(const QByteArray &headerValue, const QByteArray &param)
{
    const QList<QByteArray> pieces = headerValue.split(';');
    for (int i = 1; i < pieces.size(); ++i) {
        const QByteArray piece = pieces.at(i).trimmed();
        const int eq = piece.indexOf('=');
        if (eq < 0 || piece.left(eq).trimmed().toLower() != param.toLower())
            continue;
        QByteArray value = piece.mid(eq + 1).trimmed();
        if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"')) {
            value = value.mid(1, value.size() - 2);
            value.replace("\\\"", "\"");
            value.replace("\\\\", "\\");
        }
        return value;
    }
    return {};
}

QByteArray MultipartFormData::boundary(const QByteArray &contentType)
{
    if (!mediaType(contentType).startsWith("multipart/"))
        return {};
    return headerParameter(contentType, "boundary");
}

const FormPart *MultipartFormData::part(const QByteArray &name) const
{
    for (const FormPart &p : m_parts) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

QByteArray MultipartFormData::value(const QByteArray &name) const
{
    const FormPart *p = part(name);
    return p ? p->data : QByteArray();
}

bool MultipartFormData::parse(const QByteArray &contentType, const QByteArray &body, QString *error)
{
    m_parts.clear();
    const QByteArray type = mediaType(contentType);
    if (type == "application/x-www-form-urlencoded") {
        parseUrlEncoded(body);
        return true;
    }
    if (type.isEmpty() && body.isEmpty())
        return true; // a bare POST: no fields at all
    if (type != "multipart/form-data") {
        *error = QStringLiteral("expected a multipart/form-data body (got \"%1\")").arg(QString::fromLatin1(type));
        return false;
    }
    const QByteArray b = boundary(contentType);
    if (b.isEmpty() || b.size() > kMaxBoundary) {
        *error = QStringLiteral("multipart/form-data without a valid boundary");
        return false;
    }
    return parseMultipart(b, body, error);
}

bool MultipartFormData::parseMultipart(const QByteArray &boundary, const QByteArray &body, QString *error)
{
    const QByteArray delimiter = "--" + boundary;
    const QByteArray innerDelimiter = "\r\n" + delimiter;
    // The preamble before the first delimiter is ignored (RFC 2046 5.1.1).
    qsizetype pos = body.startsWith(delimiter) ? 0 : body.indexOf(innerDelimiter);
    if (pos < 0) {
        *error = QStringLiteral("multipart body without its boundary");
        return false;
    }
    pos += body.startsWith(delimiter) && pos == 0 ? delimiter.size() : innerDelimiter.size();
    for (;;) {
        if (body.mid(pos, 2) == "--")
            return true; // closing delimiter
        const qsizetype lineEnd = body.indexOf("\r\n", pos);
        if (lineEnd < 0) {
            *error = QStringLiteral("multipart body ends inside a delimiter line");
            return false;
        }
        const qsizetype headersStart = lineEnd + 2;
        const qsizetype headersEnd = body.indexOf("\r\n\r\n", headersStart - 2);
        if (headersEnd < 0 || headersEnd - headersStart > kMaxPartHeaderBytes) {
            *error = QStringLiteral("multipart part without a complete header");
            return false;
        }
        FormPart part;
        const QByteArray headerBlock = headersEnd > headersStart ? body.mid(headersStart, headersEnd - headersStart) : QByteArray();
        for (const QByteArray &line : headerBlock.split('\n')) {
            const QByteArray header = line.trimmed();
            const int colon = header.indexOf(':');
            if (colon < 0)
                continue;
            const QByteArray key = header.left(colon).trimmed().toLower();
            const QByteArray value = header.mid(colon + 1).trimmed();
            if (key == "content-disposition") {
                part.name = headerParameter(value, "name");
                part.fileName = headerParameter(value, "filename");
            } else if (key == "content-type") {
                part.contentType = value;
            }
        }
        const qsizetype dataStart = headersEnd + 4;
        const qsizetype dataEnd = body.indexOf(innerDelimiter, dataStart);
        if (dataEnd < 0) {
            *error = QStringLiteral("multipart body is cut off (no closing boundary)");
            return false;
        }
        part.data = body.mid(dataStart, dataEnd - dataStart);
        m_parts.append(part);
        pos = dataEnd + innerDelimiter.size();
    }
}

void MultipartFormData::parseUrlEncoded(const QByteArray &body)
{
    QByteArray plusDecoded = body;
    plusDecoded.replace('+', ' ');
    const QUrlQuery query(QString::fromUtf8(plusDecoded));
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        FormPart part;
        part.name = key.toUtf8();
        part.data = value.toUtf8();
        m_parts.append(part);
    }
}

} // namespace edgelens
