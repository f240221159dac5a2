#pragma once

// A v2 server whose answers follow a script, so the client's retry, reordering, window and
// timeout paths can be driven exactly. Result meta echoes the image size and puts the
// request's image byte count in "model", so a test can tell which request a result answers.

#include "framedtestserver.h"

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QPointer>

namespace edgelens::test {

class ScriptedV2Server final : public FramedTestServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScriptedV2Server)

public:
    enum class Behaviour {
        Answer,           // answer every request
        DropMidReply,     // send half of the Result, then close (dropsLeft times, then Answer)
        NeverAnswer,      // read requests, say nothing
        AnswerInReverse,  // hold detect replies until holdCount arrived, then answer newest first
        ErrorUndecodable, // answer Detect with an undecodable_image error
        LimitInFlight,    // answer after 30 ms; more than inFlightLimit pending -> busy error
    };
    explicit ScriptedV2Server(QObject *parent = nullptr);

    Behaviour behaviour = Behaviour::Answer;
    int dropsLeft = 1;
    int holdCount = 3;
    int inFlightLimit = 2;
    int busyAnswers = 0;
    QString requiredToken; // non-empty: Auth must come first
    int closeBeforePreamble = 0; // the next N connections are closed at once, like a draining server
    int answerDelayMs = 0;       // Answer: one request at a time over all connections, each this long
    int maxHeld = 0;             // LimitInFlight: most requests held at once on one connection
    int detectRequests = 0; // Detect messages received (re-sends included)
    int delayedDone = 0;    // answerDelayMs: requests whose delay is over (answered, or the client had gone)
    QList<QJsonObject> receivedOptions;

protected:
    void connectionOpened(QTcpSocket *socket) override;
    void connectionClosed(QTcpSocket *socket) override;
    void messageArrived(QTcpSocket *socket, const protocol::Message &message) override;

private:
    struct Peer
    {
        bool authenticated = false;
        QList<protocol::Message> held;
    };
    void answerDetect(QTcpSocket *socket, Peer &peer, const protocol::Message &message);
    static QByteArray resultFor(const protocol::Message &request);
    void workOnNext();
    QList<QPair<QPointer<QTcpSocket>, protocol::Message>> m_work; // answerDelayMs > 0
    bool m_working = false;
    QHash<QTcpSocket *, Peer> m_state;
};

} // namespace edgelens::test
