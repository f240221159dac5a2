// build/bin/edgelens-server as a user runs it: command line, the "listening on" line, one log
// line per request, exit codes, and a clean exit on SIGINT/SIGTERM.

#include "protocol/protocol.h"

#include "testdata.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <csignal>
#include <sys/types.h>

using namespace edgelens::protocol;

namespace {

QString serverBinary()
{
    return edgelens::test::executablePath(QStringLiteral("edgelens-server"));
}

QByteArray sample(const QString &name)
{
    return edgelens::test::readSample(name);
}

// Starts the server and waits for its "listening on HOST:PORT" line; 0 on failure.
quint16 startAndWaitForListening(QProcess &process, const QStringList &arguments, QString *stdoutText)
{
    process.start(serverBinary(), arguments);
    if (!process.waitForStarted(5000))
        return 0;
    QDeadlineTimer deadline(30000);
    QByteArray out;
    static const QRegularExpression line(QStringLiteral("^listening on (\\S+):(\\d+)$"), QRegularExpression::MultilineOption);
    while (!deadline.hasExpired()) {
        if (!process.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            break;
        out += process.readAllStandardOutput();
        const QRegularExpressionMatch match = line.match(QString::fromUtf8(out));
        if (match.hasMatch()) {
            *stdoutText = QString::fromUtf8(out);
            return quint16(match.captured(2).toUInt());
        }
    }
    *stdoutText = QString::fromUtf8(out);
    return 0;
}

// The server on 127.0.0.1, an ephemeral port and one worker for nanodet-m-320, plus `extra`.
quint16 startNanodetOnLoopback(QProcess &process, const QStringList &extra, QString *stdoutText)
{
    return startAndWaitForListening(process,
                                    QStringList{QStringLiteral("--host"), QStringLiteral("127.0.0.1"),
                                                QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--model"),
                                                QStringLiteral("nanodet-m-320"), QStringLiteral("--workers"),
                                                QStringLiteral("1")}
                                        + extra,
                                    stdoutText);
}

QByteArray legacyRoundTrip(quint16 port, const QByteArray &image)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(encodeLegacyFrame(image));
    QByteArray reply;
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        if (reply.size() >= 4 && reply.size() >= 4 + qFromLittleEndian<quint32>(reply.constData()))
            return reply.mid(4);
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))
            && socket.bytesAvailable() == 0)
            break;
        reply += socket.readAll();
    }
    return {};
}

} // namespace

class TestServerProcess : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY2(QFile::exists(serverBinary()), qPrintable(serverBinary()));
    }

    void servesAndExitsCleanlyOnSignal_data()
    {
        QTest::addColumn<int>("signalNumber");
        QTest::newRow("SIGTERM") << int(SIGTERM);
        QTest::newRow("SIGINT") << int(SIGINT);
    }

    void servesAndExitsCleanlyOnSignal()
    {
        QFETCH(int, signalNumber);
        QProcess process;
        QString out;
        const quint16 port = startNanodetOnLoopback(
            process, {QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("--backend"), QStringLiteral("opencv")},
            &out);
        if (port == 0)
            QFAIL(qPrintable(out + QString::fromUtf8(process.readAllStandardError())));
        QVERIFY(out.startsWith(QStringLiteral("listening on 127.0.0.1:")));

        const QByteArray jpeg = legacyRoundTrip(port, sample(QStringLiteral("soccer.jpg")));
        QVERIFY(jpeg.startsWith("\xFF\xD8\xFF"));

        ::kill(pid_t(process.processId()), signalNumber);
        QVERIFY2(process.waitForFinished(15000), "the server did not exit after the signal");
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), 0);

        const QString log = QString::fromUtf8(process.readAllStandardError());
        // One line per request: peer, protocol, bytes, detections, time.
        static const QRegularExpression requestLine(
            QStringLiteral("127\\.0\\.0\\.1:\\d+ legacy detect 297197 B -> 600x400, \\d+ detections .* in [0-9.]+ ms"));
        QVERIFY2(requestLine.match(log).hasMatch(), qPrintable(log));
        QVERIFY2(log.contains(QStringLiteral("shutting down")), qPrintable(log));
        // The startup log says what runs the model and what else this OpenCV could use.
        QVERIFY2(log.contains(QStringLiteral("with 1 workers x 2 OpenCV threads")), qPrintable(log));
        static const QRegularExpression backendLine(
            QStringLiteral("inference backend opencv \\(OpenCV/CPU\\); available: opencv"));
        QVERIFY2(backendLine.match(log).hasMatch(), qPrintable(log));
    }

    void unavailableBackend_exitsWith1NamingTheAvailableOnes()
    {
        // --help says which backends this build has ("This OpenCV 4.6.0 build has: opencv.").
        QProcess help;
        help.start(serverBinary(), {QStringLiteral("--help")});
        QVERIFY(help.waitForFinished(10000));
        const QString text = QString::fromUtf8(help.readAllStandardOutput()).simplified();
        static const QRegularExpression has(QStringLiteral("build has: ([a-z, ]+)\\."));
        const QRegularExpressionMatch match = has.match(text);
        QVERIFY2(match.hasMatch(), qPrintable(text));
        const QStringList available = match.captured(1).split(QStringLiteral(", "));
        QVERIFY(available.contains(QStringLiteral("opencv")));
        QString missing;
        for (const QString &name : {QStringLiteral("cuda"), QStringLiteral("openvino")}) {
            if (!available.contains(name)) {
                missing = name;
                break;
            }
        }
        if (missing.isEmpty())
            QSKIP("this OpenCV build has CUDA and OpenVINO");

        // From the option: refused while reading the command line.
        QProcess option;
        option.start(serverBinary(), {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--model"),
                                      QStringLiteral("nanodet-m-320"), QStringLiteral("--backend"), missing});
        QVERIFY(option.waitForFinished(20000));
        QCOMPARE(option.exitCode(), 1);
        QString err = QString::fromUtf8(option.readAllStandardError());
        QVERIFY2(err.contains(QStringLiteral("--backend: inference backend \"%1\" is not available").arg(missing)),
                 qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("(available: opencv")), qPrintable(err));
        QVERIFY(option.readAllStandardOutput().isEmpty());

        // From the environment: refused before any model loads, with the same words.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("EDGELENS_DNN_BACKEND"), missing);
        QProcess environment;
        environment.setProcessEnvironment(env);
        environment.start(serverBinary(), {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--model"),
                                           QStringLiteral("nanodet-m-320")});
        QVERIFY(environment.waitForFinished(20000));
        QCOMPARE(environment.exitCode(), 1);
        err = QString::fromUtf8(environment.readAllStandardError());
        QVERIFY2(err.contains(QStringLiteral("inference backend \"%1\" is not available").arg(missing)), qPrintable(err));
        QVERIFY2(!err.contains(QStringLiteral("loaded in")), qPrintable(err));
        QVERIFY(environment.readAllStandardOutput().isEmpty());
    }

    void missingModel_exitsWith2AndSaysWhereItLooked()
    {
        QProcess process;
        process.start(serverBinary(), {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--model"),
                                       QStringLiteral("/nonexistent/model.onnx")});
        QVERIFY(process.waitForFinished(20000));
        QCOMPARE(process.exitCode(), 2);
        const QString err = QString::fromUtf8(process.readAllStandardError());
        QVERIFY2(err.contains(QStringLiteral("/nonexistent/model.onnx")), qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("looked for detection models in")), qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("models download")), qPrintable(err));
        QVERIFY(process.readAllStandardOutput().isEmpty());
    }

    void badOption_exitsWithAMessage()
    {
        QProcess process;
        process.start(serverBinary(), {QStringLiteral("--port"), QStringLiteral("70000")});
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 1);
        QVERIFY(QString::fromUtf8(process.readAllStandardError()).contains(QStringLiteral("--port")));
    }

    void helpAndVersion_describeTheServer()
    {
        QProcess help;
        help.start(serverBinary(), {QStringLiteral("--help")});
        QVERIFY(help.waitForFinished(10000));
        QCOMPARE(help.exitCode(), 0);
        const QString text = QString::fromUtf8(help.readAllStandardOutput());
        for (const char *option : {"--host", "--port", "--model", "--models-dir", "--conf", "--nms", "--workers",
                                   "--threads", "--backend", "--max-frame-mb", "--max-pixels", "--max-connections", "--idle-timeout", "--token",
                                   "--log-level", "--version"})
            QVERIFY2(text.contains(QLatin1String(option)), option);

        QProcess version;
        version.start(serverBinary(), {QStringLiteral("--version")});
        QVERIFY(version.waitForFinished(10000));
        QVERIFY(QString::fromUtf8(version.readAllStandardOutput()).contains(QStringLiteral(EDGELENS_VERSION)));
    }

    void pythonClientsFromTheProtocolDoc_work()
    {
        // docs/PROTOCOL.md promises a client can be written from it alone; its own example
        // clients, run unchanged but for the address, must get answers.
        const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
        if (python.isEmpty())
            QSKIP("python3 is not installed");
        QFile doc(QStringLiteral(EDGELENS_SOURCE_DIR "/docs/PROTOCOL.md"));
        QVERIFY(doc.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(doc.readAll());
        static const QRegularExpression block(QStringLiteral("```python\n(.*?)```"),
                                              QRegularExpression::DotMatchesEverythingOption);
        QStringList blocks;
        for (auto it = block.globalMatch(text); it.hasNext();)
            blocks.append(it.next().captured(1));
        QCOMPARE(blocks.size(), 2);

        QProcess server;
        QString out;
        const quint16 port = startNanodetOnLoopback(server, {}, &out);
        QVERIFY(port != 0);

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString soccer = edgelens::test::samplePath(QStringLiteral("soccer.jpg"));
        QString v2 = blocks.at(1);
        v2.replace(QStringLiteral("EdgeLensClient()"), QStringLiteral("EdgeLensClient(port=%1)").arg(port));
        v2.replace(QStringLiteral("\"soccer.jpg\""), QLatin1Char('"') + soccer + QLatin1Char('"'));
        const QString script = blocks.at(0) + QLatin1Char('\n') + v2
            + QStringLiteral("\njpeg_legacy = detect_legacy('127.0.0.1', %1, open(%2, 'rb').read())\n"
                             "assert jpeg_legacy[:3] == b'\\xff\\xd8\\xff'\n"
                             "assert any(d['label'] == 'person' for d in result['detections'])\n"
                             "assert jpeg[:3] == b'\\xff\\xd8\\xff'\n"
                             "print('info', client.info()['protocol_version'])\n")
                  .arg(port)
                  .arg(QLatin1Char('"') + soccer + QLatin1Char('"'));
        QFile file(dir.filePath(QStringLiteral("client.py")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(script.toUtf8());
        file.close();

        QProcess client;
        client.start(python, {file.fileName()});
        QVERIFY(client.waitForFinished(30000));
        const QString output = QString::fromUtf8(client.readAllStandardOutput() + client.readAllStandardError());
        QVERIFY2(client.exitCode() == 0, qPrintable(output));
        QVERIFY2(output.contains(QStringLiteral("'person'")), qPrintable(output));
        QVERIFY2(output.contains(QStringLiteral("info 2")), qPrintable(output));

        ::kill(pid_t(server.processId()), SIGTERM);
        QVERIFY(server.waitForFinished(15000));
        QCOMPARE(server.exitCode(), 0);
    }

    void strangersOnThePlaintextPort_areNamedAndClosedAtOnce_data()
    {
        QTest::addColumn<QByteArray>("firstBytes");
        QTest::addColumn<QString>("logged");
        // The first bytes of `openssl s_client`'s ClientHello (TLS 1.2 record, handshake type 1).
        QTest::newRow("TLS") << QByteArray::fromHex("16030101f8010001f40303") << QStringLiteral("a TLS handshake (ClientHello)");
        QTest::newRow("HTTP") << QByteArray("GET / HTTP/1.1\r\nHost: device\r\n\r\n") << QStringLiteral("an HTTP request");
        QTest::newRow("PROXY") << QByteArray("PROXY TCP4 192.0.2.1 192.0.2.2 5555 6000\r\n")
                               << QStringLiteral("a PROXY protocol v1 header");
    }

    void strangersOnThePlaintextPort_areNamedAndClosedAtOnce()
    {
        QFETCH(QByteArray, firstBytes);
        QFETCH(QString, logged);
        QProcess process;
        QString out;
        const quint16 port = startNanodetOnLoopback(process, {}, &out);
        if (port == 0)
            QFAIL(qPrintable(out + QString::fromUtf8(process.readAllStandardError())));
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(socket.waitForConnected(5000));
        const quint16 clientPort = socket.localPort();
        socket.write(firstBytes);
        socket.waitForBytesWritten(1000);
        // Closed within this wait, which ends long before the server's 30 s idle timeout could:
        // it was the first bytes that closed it.
        if (socket.state() != QAbstractSocket::UnconnectedState)
            socket.waitForDisconnected(15000);
        QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
        QVERIFY(socket.readAll().isEmpty());

        QString log;
        QTRY_VERIFY_WITH_TIMEOUT((log += QString::fromUtf8(process.readAllStandardError())).contains(logged), 5000);
        QVERIFY2(log.contains(QStringLiteral("127.0.0.1:%1 sent %2 on the plaintext port").arg(clientPort).arg(logged)),
                 qPrintable(log));
        // And the port still serves the tutorial's clients.
        QVERIFY(legacyRoundTrip(port, sample(QStringLiteral("example_02.jpg"))).startsWith("\xFF\xD8\xFF"));
        ::kill(pid_t(process.processId()), SIGTERM);
        QVERIFY(process.waitForFinished(15000));
    }

    void withoutDnnModels_theFallbackIsAnnouncedLoudly()
    {
        EDGELENS_REQUIRE(QFile::exists(QStringLiteral("/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml")),
                         QStringLiteral("opencv-data (the cascades) is not installed"));
        QTemporaryDir home;
        QVERIFY(home.isValid());
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("EDGELENS_NO_SHARED_MODELS"), QStringLiteral("1"));
        env.remove(QStringLiteral("EDGELENS_MODEL_PATH"));
        env.insert(QStringLiteral("HOME"), home.path());
        env.insert(QStringLiteral("XDG_DATA_HOME"), home.path());
        QProcess process;
        process.setProcessEnvironment(env);
        QString out;
        const quint16 port = startAndWaitForListening(
            process, {QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QStringLiteral("0")},
            &out);
        if (port == 0)
            QFAIL(qPrintable(QString::fromUtf8(process.readAllStandardError())));

        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(socket.waitForConnected(5000));
        socket.write(encodePreamble() + encodeMessage(makeInfoRequest(1)));
        FrameReader reader(FrameReader::Mode::V2);
        Message info;
        QDeadlineTimer deadline(10000);
        for (;;) {
            const FrameReader::Status status = reader.poll();
            QVERIFY(status != FrameReader::Status::Error);
            if (status == FrameReader::Status::Ready) {
                info = reader.takeMessage();
                break;
            }
            QVERIFY(!deadline.hasExpired());
            socket.waitForReadyRead(500);
            reader.append(socket.readAll());
        }
        QCOMPARE(info.type, MessageType::Info);
        QCOMPARE(info.meta.value(QStringLiteral("fallback")).toBool(), true);
        QVERIFY(info.meta.value(QStringLiteral("models")).toArray().first().toObject().value(QStringLiteral("fallback")).toBool());

        ::kill(pid_t(process.processId()), SIGTERM);
        QVERIFY(process.waitForFinished(15000));
        QCOMPARE(process.exitCode(), 0);
        const QString log = QString::fromUtf8(process.readAllStandardError());
        QVERIFY2(log.contains(QStringLiteral("fallback")) && log.contains(QStringLiteral("NO DNN MODEL")), qPrintable(log));
    }
};

QTEST_GUILESS_MAIN(TestServerProcess)
#include "tst_serverprocess.moc"
