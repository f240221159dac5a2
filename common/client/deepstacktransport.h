#pragma once

// DeepStack's and CodeProject.AI Server's HTTP API to one device (docs/HTTP.md, "Client side"):
// each image is a POST /v1/vision/detection (or /v1/vision/custom/<model> when a model is
// chosen) with the image in the multipart field `image`, `min_confidence`, and `api_key` when a
// token is set. The answer carries boxes only, so the marked-up JPEG is drawn here with the
// shared annotator (ImageTransfer::renderMarkup, on a worker thread) when the request asks for
// an image, exactly as a v2 server would have drawn it.
//
// QNetworkAccessManager carries the requests (keep-alive, several connections per host); it is
// created with the transport, in the channel's thread. open() checks the device through the
// socket factory, so a TLS device (https) gets the same decisions as the other protocols
// (pinned fingerprint, CA, known devices, first use); the certificate approved there is the
// only one the HTTP requests then accept.
//
// What an answer does: 200 -> replied; 400/404/413 (DeepStack's error JSON) -> requestFailed
// with the server's message; 401/403 -> lost(Refused) ("wrong API key"); 429/503 -> requestBusy;
// other 5xx, a refused or dropped connection -> lost (the device is down); a body that is not
// DeepStack JSON -> requestFailed. Info asks POST /v1/vision/custom/list; Ping is GET /.

#include "client/transport.h"

#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QSslCertificate>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;
class QTcpSocket;

namespace edgelens {

struct DeepStackReply;

class DeepStackTransport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeepStackTransport)

public:
    explicit DeepStackTransport(const TransportSettings &settings, QObject *parent = nullptr);
    ~DeepStackTransport() override;

    void open() override;
    bool isReady() const override { return m_ready && !m_closed; }
    int inFlight() const override { return int(m_exchanges.size()); }
    bool reachedDevice(quint64 id) const override;
    void send(const OutgoingRequest &request) override;
    void forget(quint64 id) override;
    DeviceSpec::Protocol protocol() const override { return DeviceSpec::Protocol::DeepStack; }

    // "http://host:port" or "https://host:port" (IPv6 in brackets).
    static QUrl baseUrl(const DeviceSpec &device);
    // The detection endpoint for a model name (empty: the server's default).
    static QString detectionPath(const QString &model);

private:
    struct Exchange
    {
        quint64 id = 0;
        RequestKind kind = RequestKind::Detect;
        OutgoingRequest request; // Detect: kept for drawing the markup on the image sent
        QPointer<QNetworkReply> reply;
        bool reachedDevice = false;
        QElapsedTimer sent;
    };

    QNetworkReply *post(const QString &path, const OutgoingRequest &request);
    void watch(QNetworkReply *reply, const std::shared_ptr<Exchange> &exchange);
    void handleFinished(QNetworkReply *reply);
    void handleDetectAnswer(const std::shared_ptr<Exchange> &exchange, int status, const QByteArray &body);
    void handleInfoAnswer(const std::shared_ptr<Exchange> &exchange, int status, const QByteArray &body);
    void finishDetect(const std::shared_ptr<Exchange> &exchange, const DeepStackReply &answer);
    // False (and the request aborted) when the connection's certificate is not the approved one.
    bool certificateApproved(QNetworkReply *reply);
    void release(quint64 id);
    void fail(const QString &reason, Loss loss);
    QString apiKeyFailure(const QString &serverWords) const;

    QNetworkAccessManager *m_manager = nullptr;
    QHash<quint64, std::shared_ptr<Exchange>> m_exchanges; // by request id
    QPointer<QTcpSocket> m_probe;
    QSslCertificate m_approved; // TLS: the certificate open() accepted
    bool m_ready = false;
    bool m_closed = false;
};

} // namespace edgelens
