#pragma once

// The tutorial's protocol to one device: one connection per image (u32 LE length + bytes each
// way, then close). Every request is its own exchange; a connection that cannot be made, or
// breaks after the image was sent, means the device is in trouble (Loss), while a close
// without a single reply byte is how a tutorial server says it could not use the image
// (requestFailed, not re-sent).
//
// open() only checks that the device accepts connections (used to probe a device that was
// down); requests may be sent without it.

#include "client/transport.h"
#include "protocol/protocol.h"

#include <QElapsedTimer>
#include <QHash>
#include <QPointer>

#include <memory>

class QTcpSocket;

namespace edgelens {

class LegacyTransport final : public Transport
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LegacyTransport)

public:
    explicit LegacyTransport(const TransportSettings &settings, QObject *parent = nullptr);
    ~LegacyTransport() override;

    void open() override;
    bool isReady() const override { return !m_closed; }
    int inFlight() const override { return int(m_exchanges.size()); }
    bool reachedDevice(quint64 id) const override;
    void send(const OutgoingRequest &request) override;
    void forget(quint64 id) override;
    DeviceSpec::Protocol protocol() const override { return DeviceSpec::Protocol::Legacy; }

private:
    struct Exchange
    {
        quint64 id = 0;
        QPointer<QTcpSocket> socket;
        std::unique_ptr<protocol::FrameReader> reader;
        qint64 bytesReceived = 0;
        bool connected = false;
        QElapsedTimer sent;
    };

    void handleConnected(QTcpSocket *socket);
    void handleReadyRead(QTcpSocket *socket);
    void handleClose(QTcpSocket *socket, QAbstractSocket::SocketError error);
    void release(QTcpSocket *socket);
    void fail(const QString &reason, Loss loss);

    QHash<QTcpSocket *, std::shared_ptr<Exchange>> m_exchanges;
    QPointer<QTcpSocket> m_probe;
    bool m_closed = false;
};

} // namespace edgelens
