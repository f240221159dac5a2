#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace edgelens {

// One field of a multipart/form-data body (RFC 7578): a plain value or an uploaded file.
struct FormPart
{
    QByteArray name;
    QByteArray fileName;    // empty for plain fields
    QByteArray contentType; // as sent; empty when the part has none
    QByteArray data;
};

// The fields of an HTML form as a DeepStack client posts it: multipart/form-data, or
// application/x-www-form-urlencoded for requests without a file (model lists, api_key only).
class MultipartFormData final
{
public:
    // False with *error when the body does not match its Content-Type.
    bool parse(const QByteArray &contentType, const QByteArray &body, QString *error);

    const QList<FormPart> &parts() const { return m_parts; }
    const FormPart *part(const QByteArray &name) const; // the first with that name
    bool contains(const QByteArray &name) const { return part(name) != nullptr; }
    QByteArray value(const QByteArray &name) const;

    // The boundary parameter of a multipart Content-Type, unquoted; empty when absent.
    static QByteArray boundary(const QByteArray &contentType);
    // `param` of a header value such as `form-data; name="image"; filename="a.jpg"`.
    static QByteArray headerParameter(const QByteArray &headerValue, const QByteArray &param);

private:
    bool parseMultipart(const QByteArray &boundary, const QByteArray &body, QString *error);
    void parseUrlEncoded(const QByteArray &body);

    QList<FormPart> m_parts;
};

} // namespace edgelens
