#pragma once

#include <QJsonObject>
#include <QSize>
#include <QString>

namespace edgelens {

// What a v2 server's server-info says about the model a client's requests will run on: its
// input size (how far a photo can be reduced before sending) and the note the server would
// write on its own markup (fallback detectors), so markup drawn by the client says the same.
struct ServedModel
{
    bool found = false; // the requested (or default) model is in the answer
    QString name;       // its name
    QSize input;        // empty when the server did not say
    QString markupNote;

    // requestedModel empty: the server's default model.
    static ServedModel fromServerInfo(const QJsonObject &info, const QString &requestedModel);
};

} // namespace edgelens
