// End to end over loopback, what a client that misbehaves gets, and that the server keeps serving
// the others: bad preambles, frames and images, oversized lengths and images, idle, slow and
// never-reading clients, connection and in-flight limits, abandoned work, fair workers, and the
// throttle on wrong tokens. A DetectionServer on its own thread (as the desktop app runs it),
// clients written the blocking way in the test thread. What a well-behaved client gets:
// tst_detectionserver.

#include "blockingclients.h"
#include "serverthreadsuite.h"
#include "metricsamples.h"
#include "testdata.h"

#include "metrics/servermetrics.h"
#include "net/detectionserver.h"
#include "net/detectionservice.h"
#include "protocol/protocol.h"

#include <QDeadlineTimer>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>
#include <QtEndian>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <atomic>

using namespace edgelens;
using namespace edgelens::protocol;
using namespace edgelens::test;

namespace {

QByteArray pngHeaderClaiming(quint32 width, quint32 height)
{
    QByteArray png = QByteArray::fromHex("89504e470d0a1a0a 0000000d 49484452");
    QByteArray size(8, '\0');
    qToBigEndian(width, size.data());
    qToBigEndian(height, size.data() + 4);
    return png + size + QByteArray::fromHex("0806000000 00000000") + QByteArray(200, 'x');
}

QByteArray u32le(quint32 value)
{
    QByteArray bytes(4, '\0');
    qToLittleEndian(value, bytes.data());
    return bytes;
}

} // namespace

class TestDetectionServerLimits : public ServerThreadSuite
{
    Q_OBJECT

private slots:
    void legacyZeroLength_closesAndServerKeepsServing()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        const LegacyReply reply = legacyRequest(m_server->port(), u32le(0), 5000);
        QVERIFY(!reply.replied);
        QVERIFY(reply.closedByServer);
        m_server->verifyStillServing(m_small);
    }

    void legacyOversizedLength_isRefusedBeforeBody()
    {
        ServerConfig config = embeddedTestConfig();
        config.maxFrameBytes = 1024 * 1024;
        // No timeout could close it while the test waits: a close is the refusal of the length.
        config.idleTimeoutMs = 600000;
        config.frameTimeoutMs = 600000;
        QVERIFY(startServer(config));
        // The header alone: the server must not wait for 2 MB that never come.
        const LegacyReply reply = legacyRequest(m_server->port(), u32le(2 * 1024 * 1024), 20000);
        QVERIFY(!reply.replied);
        QVERIFY(reply.closedByServer);
        m_server->verifyStillServing(m_small);
    }

    void v2OversizedMessage_isTooLargeBeforeBody()
    {
        ServerConfig config = embeddedTestConfig();
        config.maxFrameBytes = 1024 * 1024;
        QVERIFY(startServer(config));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        QByteArray header(kHeaderSize, '\0');
        qToLittleEndian<quint32>(2 * 1024 * 1024, header.data());
        qToLittleEndian<quint16>(quint16(MessageType::Detect), header.data() + 4);
        qToLittleEndian<quint32>(31, header.data() + 8);
        client.write(header);
        const std::optional<Message> reply = client.next(4000);
        QVERIFY(reply);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::TooLarge);
        QCOMPARE(reply->requestId, 31u);
        QVERIFY(client.waitClosed(3000));
        m_server->verifyStillServing(m_small);
    }

    void truncatedFrameThenClose_serverKeepsServing()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, m_server->port());
            QVERIFY(socket.waitForConnected(5000));
            socket.write(encodeLegacyFrame(m_small).left(1000));
            socket.waitForBytesWritten(2000);
            socket.close();
        }
        {
            V2Client client;
            QVERIFY(client.connectTo(m_server->port()));
            client.write(encodeMessage(makeDetect(1, {}, m_small)).left(500));
            client.socket().close();
        }
        // Both connections are gone on the server's side too, then it serves the next client.
        QTRY_VERIFY_WITH_TIMEOUT(m_server->noConnectionsOpen(), 10000);
        m_server->verifyStillServing(m_small);
    }

    void notAnImage_legacyClosed_v2Undecodable()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        const QByteArray text = QByteArrayLiteral("this is not an image, just some text bytes");
        const LegacyReply legacy = legacyRequest(m_server->port(), encodeLegacyFrame(text), 5000);
        QVERIFY(!legacy.replied);
        QVERIFY(legacy.closedByServer);

        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        std::optional<Message> reply = client.request(makeDetect(4, {}, text));
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::UndecodableImage);
        reply = client.request(makeDetect(5, {}, {}));
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::UndecodableImage);
        // A real JPEG header with garbage after it: passes the probe, fails the decoder.
        QByteArray corrupt = m_small.left(700) + QByteArray(4000, '\x55');
        reply = client.request(makeDetect(6, {}, corrupt));
        QVERIFY(reply);
        if (reply->type == MessageType::Error)
            QCOMPARE(errorFromMessage(*reply).code, ErrorCode::UndecodableImage);
        else // libjpeg may recover a partial image; then the reply must still be a proper result
            QCOMPARE(detectionResultFromJson(reply->meta).imageWidth, decodedImageSize(m_small).width());
        reply = client.request(makeDetect(7, {}, m_small));
        QCOMPARE(reply->type, MessageType::Result);
        m_server->verifyStillServing(m_small);
    }

    void tooManyPixels_isRefusedBeforeDecoding()
    {
        ServerConfig config = embeddedTestConfig();
        config.maxPixels = 1'000'000;
        QVERIFY(startServer(config));
        const QByteArray bomb = pngHeaderClaiming(60000, 60000); // 3.6 Gpx claimed in 250 bytes
        const LegacyReply legacy = legacyRequest(m_server->port(), encodeLegacyFrame(bomb), 5000);
        QVERIFY(!legacy.replied);
        QVERIFY(legacy.closedByServer);

        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        std::optional<Message> reply = client.request(makeDetect(1, {}, bomb));
        ErrorInfo error = errorFromMessage(*reply);
        QCOMPARE(error.code, ErrorCode::TooLarge);
        QVERIFY2(error.message.contains(QStringLiteral("60000x60000")), qPrintable(error.message));
        // A real image just over the limit: 1200x900 = 1.08 Mpx.
        cv::Mat big(900, 1200, CV_8UC3, cv::Scalar(10, 20, 30));
        std::vector<uchar> png;
        cv::imencode(".png", big, png);
        reply = client.request(makeDetect(2, {}, QByteArray(reinterpret_cast<const char *>(png.data()), qsizetype(png.size()))));
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::TooLarge);
        reply = client.request(makeDetect(3, {}, m_small));
        QCOMPARE(reply->type, MessageType::Result);
        m_server->verifyStillServing(m_small);
    }

    void idleConnection_isClosedAfterTimeout()
    {
        ServerConfig config = embeddedTestConfig();
        config.idleTimeoutMs = 300;
        QVERIFY(startServer(config));
        QTcpSocket silent;
        silent.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(silent.waitForConnected(5000));
        V2Client idle;
        QVERIFY(idle.connectTo(m_server->port()));
        QVERIFY(idle.request(makePing(1)));
        const std::optional<Message> timeout = idle.next(5000);
        QVERIFY(timeout);
        QCOMPARE(errorFromMessage(*timeout).code, ErrorCode::Timeout);
        QVERIFY(idle.waitClosed(2000));
        silent.waitForDisconnected(3000);
        QCOMPARE(silent.state(), QAbstractSocket::UnconnectedState);
        m_server->verifyStillServing(m_small);
    }

    void slowClient_doesNotDelayOthers_andIsTimedOut()
    {
        ServerConfig config = embeddedTestConfig();
        config.idleTimeoutMs = 2500;  // each byte arrives in time (also on a loaded machine)...
        config.frameTimeoutMs = 5000; // ...but the frame as a whole does not
        QVERIFY(startServer(config));
        V2Client slow;
        QVERIFY(slow.connectTo(m_server->port()));
        QVERIFY(slow.request(makePing(1))); // takes the server's preamble off the wire
        const QByteArray frame = encodeMessage(makeDetect(1, {}, m_small));
        const QDeadlineTimer giveUp(60000); // only against a hang: the frame deadline ends it
        int sent = 0;
        bool othersServed = false;
        while (slow.socket().state() == QAbstractSocket::ConnectedState && !giveUp.hasExpired()) {
            slow.write(frame.mid(sent++, 1));
            if (!othersServed && sent == 3) {
                // Served in full while the slow frame is still open: nobody waits for it.
                m_server->verifyStillServing(m_small);
                othersServed = true;
                QVERIFY2(slow.socket().state() == QAbstractSocket::ConnectedState && slow.socket().bytesAvailable() == 0,
                         "the slow client's frame ended before the other client was served");
            }
            slow.socket().waitForReadyRead(150);
            if (slow.socket().bytesAvailable() > 0)
                break;
        }
        QVERIFY(othersServed);
        const std::optional<Message> reply = slow.next(5000);
        QVERIFY(reply);
        const ErrorInfo error = errorFromMessage(*reply);
        QCOMPARE(error.code, ErrorCode::Timeout);
        // The frame deadline, not the idle one (every byte came within 2.5 s).
        QVERIFY2(error.message.contains(QStringLiteral("frame not completed")), qPrintable(error.message));
        QVERIFY(sent < frame.size());
        QVERIFY(slow.waitClosed(2000));
    }

    void clientThatNeverReads_isDroppedNotBuffered()
    {
        ServerConfig config = embeddedTestConfig();
        config.idleTimeoutMs = 500;
        QVERIFY(startServer(config));
        // The server holds at most ~16 MB of unsent replies, then stops reading and drops the client.
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "stopped reading replies \\(1[67]\\d{6} bytes unsent\\)")));
        QTcpSocket hog;
        hog.setReadBufferSize(64 * 1024); // and the test never reads it either
        hog.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(hog.waitForConnected(5000));
        // 48 pings of 1 MB: every pong echoes 1 MB back to a client that never reads.
        const QByteArray ping = encodeMessage(makePing(1, QByteArray(1024 * 1024, 'p')));
        hog.write(encodePreamble());
        for (int i = 0; i < 48; ++i)
            hog.write(ping);
        const QDeadlineTimer giveUp(60000);
        while (hog.state() == QAbstractSocket::ConnectedState && !giveUp.hasExpired())
            hog.waitForBytesWritten(100);
        QCOMPARE(hog.state(), QAbstractSocket::UnconnectedState);
        m_server->verifyStillServing(m_small);
    }

    void tooManyConnections_areRefusedWithBusy()
    {
        ServerConfig config = embeddedTestConfig();
        config.maxConnections = 2;
        QVERIFY(startServer(config));
        V2Client first, second;
        QVERIFY(first.connectTo(m_server->port()));
        QVERIFY(second.connectTo(m_server->port()));
        QVERIFY(first.request(makePing(1)));
        QVERIFY(second.request(makePing(1)));

        V2Client third;
        QVERIFY(third.connectTo(m_server->port()));
        const std::optional<Message> reply = third.next(5000);
        QVERIFY(reply);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::Busy);
        QVERIFY(third.waitClosed(3000));

        const LegacyReply legacy = legacyRequest(m_server->port(), encodeLegacyFrame(m_small), 5000);
        QVERIFY(!legacy.replied);
        QVERIFY(legacy.closedByServer);

        // The admitted clients are unaffected; a slot frees up when one leaves.
        QCOMPARE(first.request(makeDetect(2, {}, m_small))->type, MessageType::Result);
        second.socket().disconnectFromHost();
        QVERIFY(second.waitClosed(2000));
        // The server has counted the second one out before the fourth arrives.
        QTRY_COMPARE_WITH_TIMEOUT(m_server->metric(QStringLiteral("edgelens_open_connections{protocol=\"v2\"}")), 1.0, 10000);
        V2Client fourth;
        QVERIFY(fourth.connectTo(m_server->port()));
        QCOMPARE(fourth.request(makeDetect(3, {}, m_small))->type, MessageType::Result);
    }

    void tooManyInFlight_getsBusyForTheExcess()
    {
        ServerConfig config = embeddedTestConfig();
        config.maxInFlightPerConnection = 1;
        config.workers = 1;
        QVERIFY(startServer(config));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));
        QByteArray burst;
        for (quint32 id = 1; id <= 4; ++id)
            burst += encodeMessage(makeDetect(id, {}, soccer));
        client.write(burst);
        int results = 0, busy = 0;
        for (int i = 0; i < 4; ++i) {
            const std::optional<Message> reply = client.next();
            QVERIFY(reply);
            if (reply->type == MessageType::Result)
                ++results;
            else if (errorFromMessage(*reply).code == ErrorCode::Busy)
                ++busy;
        }
        QVERIFY(results >= 1);
        QVERIFY(busy >= 1);
        QCOMPARE(results + busy, 4);
        QCOMPARE(client.request(makeDetect(9, {}, m_small))->type, MessageType::Result);
    }

    void unsupportedVersionAndBadPreamble_areReported()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port(), false));
        client.write(encodePreamble(3));
        const std::optional<Message> reply = client.next(5000);
        QVERIFY(reply);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::UnsupportedVersion);
        QVERIFY(client.waitClosed(2000));

        V2Client badFlags;
        QVERIFY(badFlags.connectTo(m_server->port(), false));
        badFlags.write(QByteArray::fromHex("454c4e53 0200 0100"));
        const std::optional<Message> flagsReply = badFlags.next(5000);
        QVERIFY(flagsReply);
        QCOMPARE(errorFromMessage(*flagsReply).code, ErrorCode::BadFrame);
        QVERIFY(badFlags.waitClosed(2000));
        m_server->verifyStillServing(m_small);
    }

    void malformedJson_isBadFrameAndClose()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        client.write(QByteArray::fromHex("07000000 0100 0000 2a000000 03000000 7b7b7d"));
        const std::optional<Message> reply = client.next(5000);
        QVERIFY(reply);
        QCOMPARE(errorFromMessage(*reply).code, ErrorCode::BadFrame);
        QCOMPARE(reply->requestId, 42u);
        QVERIFY(client.waitClosed(2000));
        m_server->verifyStillServing(m_small);
    }

    // How much sooner the new client is served than without cancelling is a figure for a
    // bench; what the test holds the server to is that the abandoned work is cancelled, not run.
    void abandonedWork_isCancelled_andANewClientIsServed()
    {
        QVERIFY(startServer(embeddedTestConfig()));
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));
        const QString ok = QStringLiteral("edgelens_requests_total{protocol=\"v2\",outcome=\"ok\"}");
        const double okBefore = m_server->metric(ok);

        // 20 clients queue 8 detects each and vanish without reading a byte.
        for (int c = 0; c < 20; ++c) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, m_server->port());
            QVERIFY(socket.waitForConnected(5000));
            QByteArray burst = encodePreamble();
            for (quint32 id = 1; id <= 8; ++id)
                burst += encodeMessage(makeDetect(id, {}, soccer));
            socket.write(burst);
            while (socket.bytesToWrite() > 0 && socket.waitForBytesWritten(5000)) {
            }
            socket.abort();
        }
        // Every abandoned request has ended (nothing in flight or queued) ...
        QTRY_VERIFY_WITH_TIMEOUT(m_server->noConnectionsOpen() && m_server->metric(QStringLiteral("edgelens_requests_in_flight{protocol=\"v2\"}")) == 0
                                     && m_server->metric(QStringLiteral("edgelens_queue_depth")) == 0,
                                 60000);
        // ... most of them cancelled rather than run for nobody.
        const double cancelled = test::metricSample(m_server->server()->service()->metrics()->exposition(),
                                                    QStringLiteral("edgelens_request_errors_total{protocol=\"v2\",code=\"cancelled\"}"))
                                     .value_or(0);
        const double ran = m_server->metric(ok) - okBefore;
        qInfo("of 160 abandoned detects %g were cancelled and %g run", cancelled, ran);
        QVERIFY2(cancelled > ran, qPrintable(QStringLiteral("%1 cancelled, %2 run").arg(cancelled).arg(ran)));
        V2Client client;
        QVERIFY(client.connectTo(m_server->port()));
        const std::optional<Message> reply = client.request(makeDetect(100, {}, soccer), 30000);
        QVERIFY(reply);
        QCOMPARE(reply->type, MessageType::Result);
    }

    void workersAreSharedFairly_aSingleRequestDoesNotWaitForAnotherClientsBacklog()
    {
        ServerConfig config = embeddedTestConfig();
        config.workers = 1;
        QVERIFY(startServer(config));
        const QByteArray soccer = readSample(QStringLiteral("soccer.jpg"));
        V2Client greedy, modest;
        QVERIFY(greedy.connectTo(m_server->port()));
        QVERIFY(modest.connectTo(m_server->port()));
        QVERIFY(greedy.request(makePing(1)));
        QVERIFY(modest.request(makePing(1)));
        QByteArray burst;
        for (quint32 id = 1; id <= 8; ++id)
            burst += encodeMessage(makeDetect(id, {}, soccer));
        const QString ok = QStringLiteral("edgelens_requests_total{protocol=\"v2\",outcome=\"ok\"}");
        const double okBefore = m_server->metric(ok);
        greedy.write(burst);
        // The backlog is queued before the modest request arrives.
        QTRY_VERIFY_WITH_TIMEOUT(m_server->metric(QStringLiteral("edgelens_queue_depth")) >= 6, 30000);
        const std::optional<Message> single = modest.request(makeDetect(1, {}, soccer));
        QVERIFY(single);
        QCOMPARE(single->type, MessageType::Result);
        // Answered while most of the other client's backlog still waits: one worker takes the
        // clients in turn, not the queue in arrival order (which would answer all 8 first).
        const double greedyDone = m_server->metric(ok) - okBefore - 1;
        qInfo("the single request was answered after %g of the other client's 8", greedyDone);
        QVERIFY2(greedyDone <= 3, qPrintable(QStringLiteral("after %1 of the backlog").arg(greedyDone)));
        for (int i = 0; i < 8; ++i) {
            const std::optional<Message> reply = greedy.next(30000);
            QVERIFY(reply);
            QCOMPARE(reply->type, MessageType::Result);
        }
    }

    void failedAuth_isThrottledPerAddressUntilTheWindowPasses()
    {
        ServerConfig config = embeddedTestConfig();
        config.token = QStringLiteral("s3cret");
        QVERIFY(startServer(config));
        auto now = std::make_shared<std::atomic<qint64>>(1'000'000);
        QMetaObject::invokeMethod(
            m_server->server(), [&] { m_server->server()->service()->authThrottle().setClock([now] { return now->load(); }); },
            Qt::BlockingQueuedConnection);

        const auto tryToken = [&](const QString &token) -> std::optional<Message> {
            V2Client client;
            if (!client.connectTo(m_server->port()))
                return std::nullopt;
            return client.request(makeAuth(1, token), 5000);
        };
        for (int i = 0; i < 5; ++i) {
            const std::optional<Message> reply = tryToken(QStringLiteral("guess%1").arg(i));
            QVERIFY(reply);
            QCOMPARE(errorFromMessage(*reply).code, ErrorCode::Unauthorized);
        }
        // The sixth wrong one and then the right one, within the minute: refused.
        for (const QString &token : {QStringLiteral("guess6"), QStringLiteral("s3cret")}) {
            const std::optional<Message> reply = tryToken(token);
            QVERIFY2(!reply || reply->type != MessageType::AuthOk, qPrintable(token));
        }
        *now += 61'000;
        const std::optional<Message> later = tryToken(QStringLiteral("s3cret"));
        QVERIFY(later);
        QCOMPARE(later->type, MessageType::AuthOk);
    }
};

QTEST_GUILESS_MAIN(TestDetectionServerLimits)
#include "tst_detectionserverlimits.moc"
