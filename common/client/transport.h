#pragma once

// One protocol's way of carrying requests to one device (like QNetworkAccessManager's
// per-scheme backends): V2Transport keeps one session with many requests in flight,
// LegacyTransport opens a connection per image. A DeviceChannel owns at most one transport at
// a time and throws it away when it is lost; a transport never retries on its own.
//
// After lost() a transport emits nothing more. Every request it was given ends in exactly one
// of replied / infoReceived / pongReceived / requestFailed / requestBusy, or is covered by
// lost(), or was forget()-ten; a reply for a forgotten request is dropped silently.

#include "client/clientresult.h"
#include "client/devicespec.h"
#include "protocol/detection.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTcpSocket>

#include <functional>
#include <memory>

namespace edgelens {

class SocketFactory;

enum class RequestKind { Detect, Info, Ping };

struct OutgoingRequest
{
    quint64 id = 0;
    RequestKind kind = RequestKind::Detect;
    QByteArray image;
    DetectOptions options;
};

// What every transport of one device is built with.
struct TransportSettings
{
    DeviceSpec device;
    QString token;
    int connectTimeoutMs = 30000;
    int probeTimeoutMs = 1000; // Auto: how long a connected server may stay silent to the preamble
    int maxInFlight = 4;
    std::shared_ptr<SocketFactory> sockets;
};

class Transport : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Transport)

public:
    enum class Loss {
        ConnectFailed,        // never got to exchange anything (refused, unreachable, busy at the door)
        Dropped,              // was working, then closed, reset or garbled
        Refused,              // the device refused us for good (token, version, certificate)
        NoPreamble,           // Auto probe: connected, but no v2 preamble in time (a legacy server waits)
        ClosedBeforePreamble, // Auto or v2: connected, then closed before the preamble (draining, full, legacy)
    };
    Q_ENUM(Loss)

    explicit Transport(const TransportSettings &settings, QObject *parent = nullptr);
    ~Transport() override;

    // Connect (or, for one-connection-per-image protocols, check that the device accepts
    // connections). Ends in ready() or lost().
    virtual void open() = 0;
    // Requests may be sent now. A legacy transport is always ready: each request connects.
    virtual bool isReady() const = 0;
    virtual int inFlight() const = 0;
    // How many requests the device accepts at once as learned from it; 0: no limit learned.
    virtual int window() const { return 0; }
    // Whether any byte of the request reached the device (re-sending it then counts as a retry).
    virtual bool reachedDevice(quint64 id) const = 0;
    virtual void send(const OutgoingRequest &request) = 0;
    virtual void forget(quint64 id) = 0;
    // The protocol this transport speaks (V2 or Legacy).
    virtual DeviceSpec::Protocol protocol() const = 0;

    const TransportSettings &settings() const { return m_settings; }
    QString deviceName() const { return m_settings.device.name(); }

    // "Connection refused: is the server running on HOST:PORT?"
    static QString describeSocketError(QAbstractSocket::SocketError error, const QString &host, quint16 port,
                                       const QString &detail = QString());

Q_SIGNALS:
    void ready();
    void replied(quint64 id, const edgelens::ClientResult &result);
    void infoReceived(quint64 id, const QJsonObject &info, double roundTripMs);
    void pongReceived(quint64 id, double roundTripMs);
    void requestFailed(quint64 id, const QString &reason, bool retryable); // final for this request
    void requestBusy(quint64 id, const QString &reason);                   // refused for load: send later
    void lost(const QString &reason, edgelens::Transport::Loss loss);       // everything in flight is gone

protected:
    // Connects through the socket factory and hangs up as soon as the device is reachable (and,
    // over TLS, trusted): for protocols without a session, to check a device. *probe holds the
    // socket while it runs (cleared when done); `established` sees the socket before it closes.
    void probeDevice(QPointer<QTcpSocket> *probe, const std::function<void(QTcpSocket *)> &established,
                     const std::function<void(const QString &reason, Loss loss)> &failed);

    const TransportSettings m_settings;
};

} // namespace edgelens
