#include "deepstackrequest.h"

namespace edgelens {

DeepStackRequest DeepStackRequest::fromHttp(const QByteArray &contentType, const QByteArray &body,
                                            const QByteArray &authorization)
{
    DeepStackRequest request;
    if (!request.m_form.parse(contentType, body, &request.m_formError))
        request.m_form = MultipartFormData();
    if (const FormPart *key = request.m_form.part("api_key")) {
        request.m_apiKey = QString::fromUtf8(key->data);
        request.m_hasApiKey = true;
    } else {
        const QByteArray auth = authorization.trimmed();
        if (auth.size() > 7 && auth.left(7).toLower() == "bearer ") {
            request.m_apiKey = QString::fromUtf8(auth.mid(7).trimmed());
            request.m_hasApiKey = true;
        }
    }
    return request;
}

bool DeepStackRequest::validateForDetection(QString *error)
{
    if (!m_formError.isEmpty()) {
        *error = m_formError;
        return false;
    }
    const FormPart *image = m_form.part("image");
    if (!image || image->data.isEmpty()) {
        *error = QStringLiteral("no image: send the picture as the multipart/form-data file field \"image\"");
        return false;
    }
    m_image = image->data;
    if (const FormPart *confidence = m_form.part("min_confidence")) {
        bool ok = false;
        const QByteArray text = confidence->data.trimmed();
        const double value = text.toDouble(&ok);
        if (!ok || !(value >= 0.0 && value <= 1.0)) {
            *error = QStringLiteral("min_confidence must be a number from 0 to 1 (got \"%1\")")
                         .arg(QString::fromUtf8(text.left(40)));
            return false;
        }
        m_minConfidence = float(value);
    }
    return true;
}

} // namespace edgelens
