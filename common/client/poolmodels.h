#pragma once

// What each device of a pool serves, from the server-info each one gave. A client prepares an
// image (reduces a large photo for the model) before it knows which device will get it, and
// the devices of a pool may run different models. So: a reduced copy is made only once every
// device has described its model, and then for the largest input among them; the note on
// locally drawn markup (fallback detectors) is the answering device's; and the user is told
// when the devices disagree (each result's `model` still names the one that produced it).

#include "client/servedmodel.h"

#include <QHash>
#include <QJsonObject>
#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

class DetectionClient;

class PoolModels final
{
public:
    // reset() for the client's enabled devices, then asks each for its server-info (a legacy
    // device cannot say: noAnswer() at once). The answers come back through takeAnswer() and
    // takeFailure(); requests of an earlier ask() are forgotten.
    void ask(DetectionClient &client, const QString &requestedModel);
    // DetectionClient::serverInfoReceived: true when the request was one of ask()'s (then the
    // device is described), false for anybody else's.
    bool takeAnswer(quint64 id, const QJsonObject &info, const QString &device);
    // DetectionClient::requestFailed: the device asked when the request was one of ask()'s
    // (then it counts as giving no answer), nothing for anybody else's.
    std::optional<QString> takeFailure(quint64 id);
    // Answers still to come are ignored (the devices changed; the next ask() starts afresh).
    void forgetRequests() { m_requests.clear(); }
    // devices: the DeviceSpec::resultName()s about to be asked. requestedModel: empty for each
    // server's default model.
    void reset(const QStringList &devices, const QString &requestedModel);
    void describe(const QString &device, const QJsonObject &info);
    // The device gave no server-info (a legacy server, unreachable, refused).
    void noAnswer(const QString &device);

    bool anyDescribed() const;
    bool complete() const; // every device answered, one way or the other
    // What a photo may be reduced to: the largest input of all devices once each described its
    // model; empty (send files as they are) while one has not, or could not.
    QSize input() const;
    QString markupNote(const QString &device) const;
    QString modelName(const QString &device) const; // empty when unknown
    // Empty while the devices that answered agree; else, for people:
    // "the devices run different models: nanodet-m-320 on a:6000, embedded; yolox-nano-640 on b:6000".
    QString disagreement() const;

private:
    QStringList m_devices; // in the pool's order
    QString m_requested;
    QHash<QString, ServedModel> m_served; // describe()d
    QStringList m_silent;                 // noAnswer()ed
    QHash<quint64, QString> m_requests;   // ask()'s server-info requests -> the device asked
};

} // namespace edgelens
