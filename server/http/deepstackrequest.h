#pragma once

#include "http/multipartformdata.h"

#include <QByteArray>
#include <QString>

namespace edgelens {

// A DeepStack / CodeProject.AI vision request as their clients send it: a form with the image
// in `image`, optional `min_confidence` (0-1, DeepStack's default 0.4) and `api_key`; the key
// may also come as `Authorization: Bearer KEY`. Reading the form and validating it are two
// steps, because the key is checked (401) before anything else is looked at.
class DeepStackRequest final
{
public:
    static constexpr float kDefaultMinConfidence = 0.4f;

    // Reads the form; formError() says what was wrong with it, if anything.
    static DeepStackRequest fromHttp(const QByteArray &contentType, const QByteArray &body,
                                     const QByteArray &authorization);

    // The key offered, from the form field or else the bearer header; empty when none.
    QString apiKey() const { return m_apiKey; }
    bool hasApiKey() const { return m_hasApiKey; }

    // For detection: false with a message for a 400 answer (unreadable form, no image, a
    // min_confidence that is not a number from 0 to 1).
    bool validateForDetection(QString *error);

    const QString &formError() const { return m_formError; }
    const QByteArray &image() const { return m_image; }
    float minConfidence() const { return m_minConfidence; }
    const MultipartFormData &form() const { return m_form; }

private:
    MultipartFormData m_form;
    QString m_formError;
    QString m_apiKey;
    bool m_hasApiKey = false;
    QByteArray m_image;
    float m_minConfidence = kDefaultMinConfidence;
};

} // namespace edgelens
