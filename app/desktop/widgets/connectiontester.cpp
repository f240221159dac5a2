#include "widgets/connectiontester.h"

#include "client/detectionclient.h"
#include "client/knowndevices.h"
#include "client/tlssocketfactory.h"

#include <QBuffer>
#include <QImage>
#include <QImageWriter>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMetaMethod>
#include <QPainter>

Q_LOGGING_CATEGORY(lcConnectionTester, "edgelens.widgets.connectiontester")

namespace edgelens {

namespace {

QString milliseconds(double ms)
{
    if (ms < 1)
        return QString::number(ms, 'f', 2);
    return ms < 10 ? QString::number(ms, 'f', 1) : QString::number(qRound(ms));
}

// Servers may send a name or a {name, version} object; accept either.
QString nameAndVersion(const QJsonValue &value, const QJsonValue &separateVersion = QJsonValue())
{
    QString name;
    QString version;
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        name = object.value(QStringLiteral("name")).toString();
        version = object.value(QStringLiteral("version")).toVariant().toString();
    } else {
        name = value.toVariant().toString();
    }
    if (version.isEmpty())
        version = separateVersion.toVariant().toString();
    if (name.isEmpty())
        return version;
    return version.isEmpty() ? name : QStringLiteral("%1 %2").arg(name, version);
}

} // namespace

ConnectionTester::ConnectionTester(QObject *parent)
    : QObject(parent)
{
}

ConnectionTester::~ConnectionTester() = default;

bool ConnectionTester::isRunning() const
{
    return m_client != nullptr;
}

void ConnectionTester::abort()
{
    if (!m_client)
        return;
    m_client->cancelAll();
    m_client->disconnect(this);
    m_client->deleteLater();
    m_client = nullptr;
    m_requestId = 0;
}

void ConnectionTester::start(const AppSettings &settings)
{
    abort();
    m_probingWithImage = false;
    const AppSettings::Device device = settings.remoteDevices().value(0);
    m_forcedV2 = device.protocol == AppSettings::Protocol::V2;
    m_tls = device.tls;
    m_trustedNow.clear();
    m_clock.start();
    m_client = new DetectionClient(this);
    DeviceSpec spec = device.toSpec();
    spec.enabled = true;
    m_deviceKey = spec.key();
    m_deviceName = device.name();
    m_client->setDevices({spec});
    m_client->setTimeout(settings.timeoutMs);
    if (m_tls) {
        TlsSocketFactory *tls = m_client->tls();
        if (isSignalConnected(QMetaMethod::fromSignal(&ConnectionTester::trustQuestion))) {
            connect(tls, &TlsSocketFactory::trustNeeded, this, [this](const DeviceSpec &d, const QString &fingerprint) {
                Q_EMIT trustQuestion(d.key(), d.name(), fingerprint);
            });
        }
        connect(tls, &TlsSocketFactory::deviceRemembered, this,
                [this](const DeviceSpec &, const QString &fingerprint, const QString &) { m_trustedNow = fingerprint; });
    }
    m_client->setMaxInFlight(1);
    if (settings.token)
        m_client->setToken(*settings.token);
    // A test reports the first failure as it is; retrying would only delay the answer.
    m_client->setMaxRetries(0);

    connect(m_client, &DetectionClient::serverInfoReceived, this, &ConnectionTester::handleServerInfo);
    connect(m_client, &DetectionClient::requestFailed, this,
            [this](quint64 id, const QString &reason, bool) { handleFailure(id, reason); });
    connect(m_client, &DetectionClient::resultReady, this, [this](quint64 id, const ClientResult &result) {
        handleResult(id, result.roundTripMs, result.legacy, result.result.imageWidth, result.result.imageHeight);
    });

    qCDebug(lcConnectionTester) << "testing" << device.name() << AppSettings::protocolName(device.protocol)
                                << (device.tls ? "TLS" : "plain");
    if (device.protocol == AppSettings::Protocol::Legacy)
        sendProbeImage();
    else
        m_requestId = m_client->requestServerInfo();
}

void ConnectionTester::answerTrust(const QString &deviceKey, const QString &fingerprint, bool trust)
{
    if (!m_client || deviceKey != m_deviceKey)
        return;
    m_client->tls()->decide(deviceKey, fingerprint,
                            trust ? TlsSocketFactory::Decision::AcceptAlways : TlsSocketFactory::Decision::Reject);
}

QString ConnectionTester::tlsSummary() const
{
    if (!m_tls)
        return QString();
    if (!m_trustedNow.isEmpty())
        return QStringLiteral(" \u00b7 TLS, certificate %1 trusted now and remembered").arg(m_trustedNow);
    if (const auto known = KnownDevices().fingerprint(m_deviceKey))
        return QStringLiteral(" \u00b7 TLS, known certificate %1").arg(*known);
    return QStringLiteral(" \u00b7 TLS, certificate verified by a trusted authority");
}

void ConnectionTester::sendProbeImage()
{
    m_probingWithImage = true;
    DetectOptions options;
    options.jpegQuality = 50;
    m_requestId = m_client->submit(probeImage(), options);
}

void ConnectionTester::handleServerInfo(quint64 id, const QJsonObject &info, double roundTripMs)
{
    if (id != m_requestId)
        return;
    Q_EMIT serverInfoReceived(info, m_deviceName);
    finish(true, QStringLiteral("Connected to %1 \u00b7 round trip %2 ms (%3 ms including connect)%4")
                     .arg(describeServerInfo(info), milliseconds(roundTripMs), milliseconds(m_clock.nsecsElapsed() / 1e6),
                          tlsSummary()));
}

void ConnectionTester::handleResult(quint64 id, double roundTripMs, bool legacy, int width, int height)
{
    if (id != m_requestId)
        return;
    const QString size = width > 0 ? QStringLiteral(" %1\u00d7%2").arg(width).arg(height) : QString();
    if (legacy) {
        finish(true, QStringLiteral("Connected to a legacy (tutorial protocol) server: it answered a%1 test image in %2 ms. "
                                    "It sends no server info and no detection data, only marked-up images.")
                         .arg(size, milliseconds(roundTripMs)));
    } else {
        finish(true, QStringLiteral("Connected: the server answered a%1 test image in %2 ms.%3")
                         .arg(size, milliseconds(roundTripMs), tlsSummary()));
    }
}

void ConnectionTester::handleFailure(quint64 id, const QString &reason)
{
    if (id != m_requestId)
        return;
    // Auto mode found a legacy server, which has no info message: ask it the only way it
    // understands so the user still learns it works.
    if (!m_probingWithImage && m_client && m_client->activeProtocol() == DetectionClient::Protocol::Legacy) {
        qCDebug(lcConnectionTester) << "legacy server detected; probing with an image after:" << reason;
        sendProbeImage();
        return;
    }
    QString message = reason;
    if (m_forcedV2 && reason.contains(QLatin1String("timed out"), Qt::CaseInsensitive))
        message += QStringLiteral(" A server that never answers the v2 greeting may be a legacy (tutorial) server: "
                                  "try Protocol \u201cAutomatic\u201d or \u201cLegacy\u201d.");
    finish(false, message);
}

void ConnectionTester::finish(bool ok, const QString &message)
{
    abort();
    Q_EMIT finished(ok, message);
}

QByteArray ConnectionTester::probeImage()
{
    QImage image(64, 48, QImage::Format_RGB32);
    image.fill(QColor(90, 120, 160));
    {
        QPainter painter(&image);
        painter.fillRect(16, 12, 32, 24, QColor(230, 200, 60));
    }
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, "jpg");
    writer.setQuality(80);
    if (!writer.write(image))
        qCWarning(lcConnectionTester) << "could not encode the probe image:" << writer.errorString();
    return bytes;
}

QString ConnectionTester::describeServerInfo(const QJsonObject &info)
{
    QStringList parts;

    QString software = nameAndVersion(info.value(QStringLiteral("software")), info.value(QStringLiteral("version")));
    if (software.isEmpty())
        software = nameAndVersion(info.value(QStringLiteral("server")), info.value(QStringLiteral("version")));
    parts << (software.isEmpty() ? QStringLiteral("server") : software);

    QString model;
    for (const char *key : {"model", "default_model", "defaultModel"}) {
        const QJsonValue value = info.value(QLatin1String(key));
        if (!value.isUndefined() && !value.isNull()) {
            model = nameAndVersion(value, info.value(QStringLiteral("model_version")));
            break;
        }
    }
    const QJsonArray models = info.value(QStringLiteral("models")).toArray();
    if (model.isEmpty() && !models.isEmpty())
        model = nameAndVersion(models.first());
    if (!model.isEmpty()) {
        QString text = QStringLiteral("model %1").arg(model);
        // Details from the model list when the server sends one: family, input size, backend.
        for (const QJsonValue &entry : models) {
            const QJsonObject m = entry.toObject();
            if (m.value(QStringLiteral("name")).toString() != model)
                continue;
            QStringList details;
            if (m.contains(QStringLiteral("family")))
                details << m.value(QStringLiteral("family")).toString();
            if (m.value(QStringLiteral("input_width")).toInt() > 0)
                details << QStringLiteral("%1\u00d7%2").arg(m.value(QStringLiteral("input_width")).toInt())
                                                      .arg(m.value(QStringLiteral("input_height")).toInt());
            if (m.contains(QStringLiteral("backend")))
                details << m.value(QStringLiteral("backend")).toString();
            details.removeAll(QString());
            if (!details.isEmpty())
                text += QStringLiteral(" (%1)").arg(details.join(QStringLiteral(", ")));
            break;
        }
        if (info.value(QStringLiteral("fallback")).toBool())
            text += QStringLiteral(" \u2013 fallback cascade, not a real detector");
        if (models.size() > 1)
            text += QStringLiteral(", %1 more available").arg(models.size() - 1);
        parts << text;
    } else if (info.contains(QStringLiteral("models"))) {
        parts << QStringLiteral("no models loaded");
    }

    QString protocolVersion;
    for (const char *key : {"protocol_version", "protocolVersion", "protocol"}) {
        const QJsonValue value = info.value(QLatin1String(key));
        if (!value.isUndefined() && !value.isNull()) {
            protocolVersion = value.toVariant().toString();
            break;
        }
    }
    if (!protocolVersion.isEmpty())
        parts << QStringLiteral("protocol v%1").arg(protocolVersion);
    if (info.value(QStringLiteral("auth_required")).toBool())
        parts << QStringLiteral("token required");

    if (parts.size() == 1 && software.isEmpty() && !info.isEmpty()) {
        // Nothing we recognise: show the raw answer rather than nothing.
        QString raw = QString::fromUtf8(QJsonDocument(info).toJson(QJsonDocument::Compact));
        if (raw.size() > 200)
            raw = raw.left(200) + QStringLiteral("\u2026");
        parts << raw;
    }
    return parts.join(QStringLiteral(" \u00b7 "));
}

} // namespace edgelens
