#pragma once

#include "widgets/appsettings.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>

namespace edgelens {

class DetectionClient;

// One "Test connection" run: asks a server for its info (v2) or, for a legacy server that
// has none, sends a tiny test image, and reports either what the server said with the
// round-trip time or the precise reason it failed. Emits finished exactly once per start().
class ConnectionTester final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionTester)

public:
    explicit ConnectionTester(QObject *parent = nullptr);
    ~ConnectionTester() override;

    // Uses host, port, protocol and timeoutMs; a running test is abandoned first.
    void start(const AppSettings &settings);
    void abort();
    bool isRunning() const;

    // A small valid JPEG for probing legacy servers (they only answer images).
    static QByteArray probeImage();
    // "EdgeLens Server 0.1.0 · model nanodet-m-320 (1.0) · protocol v2" from an Info reply.
    static QString describeServerInfo(const QJsonObject &info);

Q_SIGNALS:
    void finished(bool ok, const QString &message);

private:
    void handleServerInfo(quint64 id, const QJsonObject &info, double roundTripMs);
    void handleResult(quint64 id, double roundTripMs, bool legacy, int width, int height);
    void handleFailure(quint64 id, const QString &reason);
    void sendProbeImage();
    void finish(bool ok, const QString &message);

    DetectionClient *m_client = nullptr;
    quint64 m_requestId = 0;
    bool m_probingWithImage = false;
    bool m_forcedV2 = false;
    QElapsedTimer m_clock; // since start(), so the user also sees what connecting costs
};

} // namespace edgelens
