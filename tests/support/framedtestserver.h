#pragma once

// The part every scripted loopback server shares: accept on 127.0.0.1, one FrameReader per
// connection fed incrementally, a bad frame aborts the connection, `disconnected` ->
// `deleteLater`. Subclasses only say what to answer. Servers that must misbehave below the
// framing (LegacyTestServer reads raw bytes) do not use it.

#include "protocol/protocol.h"

#include <QHash>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTcpSocket>

#include <memory>
#include <optional>

namespace edgelens::test {

class FramedTestServer : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FramedTestServer)

public:
    ~FramedTestServer() override;

    bool listenOnLoopback(quint16 port = 0); // 0: an ephemeral port
    void dropAllConnections();                 // aborts every open connection, keeps listening

    int connections = 0;      // accepted so far
    qint64 bytesReceived = 0; // application bytes read (after TLS), all connections

    // Serve TLS with this configuration (certificate and key set): the hooks run once the
    // handshake is done.
    void setTls(const QSslConfiguration &configuration);

protected:
    explicit FramedTestServer(protocol::FrameReader::Mode mode, QObject *parent = nullptr,
                              quint32 maxFrameBytes = protocol::kDefaultMaxFrameBytes);

    // The hooks run on the server's thread; sockets are children of the server.
    virtual void connectionOpened(QTcpSocket *socket);
    virtual void connectionClosed(QTcpSocket *socket);
    // Raw bytes before framing; return false to leave them unread (call ignoreInputFrom() to
    // go deaf on that connection for good).
    virtual bool bytesArrived(QTcpSocket *socket, const protocol::FrameReader &reader, const QByteArray &bytes);
    virtual void preambleArrived(QTcpSocket *socket);
    virtual void messageArrived(QTcpSocket *socket, const protocol::Message &message);
    virtual void legacyFrameArrived(QTcpSocket *socket, const QByteArray &payload);

    void ignoreInputFrom(QTcpSocket *socket);
    bool isOpen(QTcpSocket *socket) const; // still connected and not dropped

    void incomingConnection(qintptr handle) override;

private:
    void readFrom(QTcpSocket *socket);
    void adopt(QTcpSocket *socket);

    struct Peer
    {
        std::unique_ptr<protocol::FrameReader> reader; // null: input ignored
        bool preambleReported = false;
    };
    protocol::FrameReader::Mode m_mode;
    quint32 m_maxFrameBytes;
    std::optional<QSslConfiguration> m_tls;
    QHash<QTcpSocket *, std::shared_ptr<Peer>> m_peers;
};

} // namespace edgelens::test
