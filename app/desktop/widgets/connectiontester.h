#pragma once

#include "widgets/appsettings.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>

namespace edgelens {

class DetectionClient;

// One "Test connection" run: asks a server for its info (v2) or, for a legacy server that
// has none, sends a tiny test image, and reports either what the server said with the
// round-trip time or the precise reason it failed. Emits finished exactly once per start().
// A device with TLS on is tested over TLS with the app's known devices: the report says how
// its certificate was trusted (known fingerprint, an authority, or trusted just now) and shows
// the fingerprint. A new device's certificate is put to the user through trustQuestion (the
// settings dialog shows the first-use dialog and calls answerTrust); with nobody listening it
// is refused, so the token never goes to a device nobody vouched for.
class ConnectionTester final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionTester)

public:
    explicit ConnectionTester(QObject *parent = nullptr);
    ~ConnectionTester() override;

    // Uses the first device (host, port, protocol, TLS), the token and timeoutMs; a running
    // test is abandoned first.
    void start(const AppSettings &settings);
    // The answer to trustQuestion: trusted devices are recorded in the known-devices file.
    void answerTrust(const QString &deviceKey, const QString &fingerprint, bool trust);
    void abort();
    bool isRunning() const;

    // A small valid JPEG for probing legacy servers (they only answer images).
    static QByteArray probeImage();
    // "EdgeLens Server 0.1.0 · model nanodet-m-320 (1.0) · protocol v2" from an Info reply.
    static QString describeServerInfo(const QJsonObject &info);

Q_SIGNALS:
    void finished(bool ok, const QString &message);
    void trustQuestion(const QString &deviceKey, const QString &deviceName, const QString &fingerprint);
    // A v2 device's server-info, before finished(): what it serves and how fast (measured_ms).
    void serverInfoReceived(const QJsonObject &info, const QString &deviceName);

private:
    void handleServerInfo(quint64 id, const QJsonObject &info, double roundTripMs);
    void handleResult(quint64 id, double roundTripMs, bool legacy, int width, int height);
    void handleFailure(quint64 id, const QString &reason);
    void sendProbeImage();
    void finish(bool ok, const QString &message);
    QString tlsSummary() const;

    DetectionClient *m_client = nullptr;
    quint64 m_requestId = 0;
    bool m_probingWithImage = false;
    bool m_forcedV2 = false;
    bool m_tls = false;
    QString m_deviceKey;
    QString m_deviceName;
    QString m_trustedNow; // fingerprint the user trusted during this test
    QElapsedTimer m_clock; // since start(), so the user also sees what connecting costs
};

} // namespace edgelens
