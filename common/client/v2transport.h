#pragma once

// EdgeLens protocol v2 to one device: one persistent session, many requests in flight matched
// by request id, optional auth. In probing mode (protocol Auto, not yet known) the session also
// tells v2 from legacy: a v2 server answers the preamble at once, a legacy server stays silent
// (Loss::NoPreamble). A close before the preamble proves nothing (a v2 server that is
// draining or full does that too) and is reported as Loss::ClosedBeforePreamble.
//
// Flow control: a `busy` answer to a request shrinks the window to what the device took; a run
// of answers without `busy` grows it back one at a time, up to the client's maxInFlight.

#include "client/transport.h"
#include "protocol/protocol.h"

#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QTimer>

#include <memory>

class QTcpSocket;

namespace edgelens {

class V2Transport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(V2Transport)

public:
    V2Transport(const TransportSettings &settings, bool probing, QObject *parent = nullptr);
    ~V2Transport() override;

    void open() override;
    bool isReady() const override;
    int inFlight() const override;
    int window() const override;
    bool reachedDevice(quint64 id) const override;
    void send(const OutgoingRequest &request) override;
    void forget(quint64 id) override;
    DeviceSpec::Protocol protocol() const override { return DeviceSpec::Protocol::V2; }

    // Answers in a row without `busy` before the window grows by one.
    static int growthRun(int window) { return 8 * window; }

private:
    enum class State { Idle, Connecting, AwaitingPreamble, Authenticating, Ready, Closed };

    struct Pending
    {
        quint64 id = 0;
        RequestKind kind = RequestKind::Detect;
        QElapsedTimer sent;
    };

    void handleEstablished();
    void handleReadyRead();
    void handleSocketError(QAbstractSocket::SocketError error);
    void handleMessage(const protocol::Message &message);
    void becomeReady();
    void fail(const QString &reason, Loss loss);
    QString target() const { return deviceName(); }

    const bool m_probing;
    State m_state = State::Idle;
    QPointer<QTcpSocket> m_socket;
    std::unique_ptr<protocol::FrameReader> m_reader;
    QHash<quint32, Pending> m_pending; // by wire id
    quint32 m_nextWireId = 1;
    quint32 m_authWireId = 0;
    int m_window = 0;      // > 0: limit learned from busy answers
    int m_cleanRun = 0;    // answers since the last busy
    QTimer m_connectTimer; // connect + preamble + auth
    QTimer m_probeTimer;   // probing: preamble within probeTimeoutMs
};

} // namespace edgelens
