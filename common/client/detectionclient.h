#pragma once

// The one network client of EdgeLens, used by edgelens-cli and the desktop app alike (the
// façade, like QNetworkAccessManager). It lives in the thread that created it (normally the GUI
// thread) and never blocks: every socket is asynchronous and every answer arrives as a signal.
//
// A target is one or more devices (setTarget for one, setDevices for a pool). Each device has
// a DeviceChannel, which owns a Transport for its protocol (V2Transport, LegacyTransport; the
// socket factory adds TLS). Requests wait in one queue; BalancingPolicy gives each to the up
// device with the least outstanding work for its measured speed, within each device's
// in-flight limit (maxInFlight, or less when the device answered `busy`).
//
// Every submitted request ends in exactly one resultReady or requestFailed (or is returned by
// cancel/cancelAll). When a device fails (refused, dropped, no answer in time) what it had in
// flight goes back to the queue at once for the other devices; a re-send after the image
// reached a device counts as a retry (at most maxRetries). A reply from a device that was given
// up on cannot arrive: its connection is closed first. With every device down the queue holds
// while they are probed with backoff, and fails with the reason once each has failed more than
// maxRetries times in a row.

#include "client/clientresult.h"
#include "client/devicespec.h"
#include "client/transport.h"
#include "protocol/detection.h"
#include "protocol/protocol.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <deque>
#include <memory>
#include <vector>

namespace edgelens {

class DeviceChannel;
struct ChannelSettings;
struct ReturnedRequests;
class SocketFactory;
class TlsSocketFactory;

class DetectionClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectionClient)

public:
    using Protocol = DeviceSpec::Protocol;

    enum class ConnectionState {
        Disconnected, // nothing open (legacy between images, or idle)
        Connecting,   // connecting or negotiating with a device, none up yet
        Negotiating,  // kept for source compatibility; reported as Connecting
        Connected,    // at least one device is up
        Reconnecting, // every device lost or refused; waiting for the backoff before retrying
    };
    Q_ENUM(ConnectionState)

    explicit DetectionClient(QObject *parent = nullptr);
    ~DetectionClient() override;

    // One device. Changing the target, the devices, the protocol or the token closes the
    // connections; requests in flight are re-queued without counting as a retry.
    void setTarget(const QString &host, quint16 port);
    QString host() const; // of the first device
    quint16 port() const;
    // Several devices (a pool). Devices with enabled == false are kept but not used.
    void setDevices(const QList<DeviceSpec> &devices);
    QList<DeviceSpec> devices() const;
    QList<DeviceStatus> deviceStatuses() const;
    // Devices that refused (a certificate not trusted or changed, a wrong token) are not used
    // until the settings change. This gives them a fresh start now (the user forgot a changed
    // fingerprint, or trusted the device after all); the others keep their connections.
    void retryRefusedDevices();
    // Applies to every device (setTarget's and setDevices'); a device's own protocol is replaced.
    void setProtocol(Protocol protocol);
    Protocol protocol() const;
    void setMaxInFlight(int count);       // per device, >= 1; default 4
    int maxInFlight() const;
    void setTimeout(int milliseconds);    // connect and per-request reply timeout; default 30000
    int timeout() const;
    void setMaxRetries(int retries);      // re-sends after a lost answer; default 3
    int maxRetries() const;
    void setProbeTimeout(int milliseconds); // Auto: how long to wait for a v2 preamble; default 1000
    void setToken(const QString &token);  // v2 Auth; empty: none
    void setRetryBackoff(int initialMs, int maxMs); // default 200 .. 3000, doubling
    // How plain connections are made (TCP by default).
    void setSocketFactory(std::shared_ptr<SocketFactory> factory);
    // TLS for devices with tls == true: known devices, extra CAs, and the trust questions
    // (trustNeeded -> decide, fingerprintChanged) a user interface answers.
    TlsSocketFactory *tls() const;

    // Protocol of the first device: V2 or Legacy once known, Auto while unknown.
    Protocol activeProtocol() const;
    ConnectionState connectionState() const;
    int pendingCount() const;  // queued + in flight

    // Queue one encoded image (JPEG, PNG, ... as read from disk). Returns its id (never 0).
    quint64 submit(const QByteArray &imageBytes, const DetectOptions &options = DetectOptions());
    // v2 only; on a legacy server these fail with a reason. Answers: serverInfoReceived / pongReceived.
    // device empty: whichever device takes it first. Otherwise a DeviceSpec::resultName() of the
    // pool: only that device is asked (each device of a pool may serve another model); the
    // request fails when it is not in the pool, disabled, refused or given up on.
    quint64 requestServerInfo(const QString &device = QString());
    quint64 ping();

    // Forget requests without emitting anything for them; returns the ids dropped. A v2 reply
    // still on its way is ignored when it arrives.
    bool cancel(quint64 id);
    QList<quint64> cancelAll();

    // "Connection refused: is the server running on HOST:PORT?"
    static QString describeSocketError(QAbstractSocket::SocketError error, const QString &host, quint16 port,
                                       const QString &detail = QString());
    // Forget every remembered Auto answer (tests, or a user who upgraded their device).
    static void forgetDetectedProtocols();

Q_SIGNALS:
    void resultReady(quint64 id, const edgelens::ClientResult &result);
    void requestFailed(quint64 id, const QString &reason, bool retryable);
    // device: resultName() of the device that answered.
    void serverInfoReceived(quint64 id, const QJsonObject &info, double roundTripMs, const QString &device);
    void pongReceived(quint64 id, double roundTripMs);
    void connectionStateChanged(edgelens::DetectionClient::ConnectionState state);
    void protocolDetected(edgelens::DetectionClient::Protocol protocol); // Auto resolved to V2 or Legacy
    void requestRetrying(quint64 id, int attempt, const QString &reason); // progress/log hint only
    // A device's state or numbers changed (index into devices()).
    void deviceStatusChanged(int index, const edgelens::DeviceStatus &status);

private:
    struct Request
    {
        quint64 id = 0;
        RequestKind kind = RequestKind::Detect;
        QByteArray image;
        DetectOptions options;
        int attempts = 0;                 // sends that reached a device or are in flight
        DeviceChannel *channel = nullptr; // while in flight
        QString device;                   // only this device (resultName()); empty: any
    };

    quint64 enqueue(RequestKind kind, const QByteArray &image, const DetectOptions &options,
                    const QString &device = QString());
    void rebuildChannels();
    DeviceChannel *createChannel(const DeviceSpec &device);
    void schedulePump();
    void pump();
    void sendPinned();
    DeviceChannel *channelNamed(const QString &device) const;
    void sendTo(DeviceChannel *channel, const std::shared_ptr<Request> &request);
    void failIfNoDeviceLeft();
    void handleReturned(DeviceChannel *channel, const ReturnedRequests &returned);
    void handleChannelStatus(DeviceChannel *channel);
    std::shared_ptr<Request> ownedBy(DeviceChannel *channel, quint64 id) const;
    void requeueFront(QList<quint64> ids);
    void failRequest(quint64 id, const QString &reason, bool retryable);
    void finishRequest(quint64 id);
    void failQueued(const QString &reason, bool retryable);
    void updateConnectionState();

    QList<DeviceSpec> m_devices;
    Protocol m_protocol = Protocol::Auto;
    std::unique_ptr<ChannelSettings> m_settings;
    std::shared_ptr<TlsSocketFactory> m_tls;
    std::vector<DeviceChannel *> m_channels; // children, one per device, same order

    quint64 m_nextId = 1;
    std::deque<quint64> m_queue; // waiting to be sent, in order
    QHash<quint64, std::shared_ptr<Request>> m_requests; // every live request

    ConnectionState m_state = ConnectionState::Disconnected;
    bool m_pumpScheduled = false;
};

} // namespace edgelens
