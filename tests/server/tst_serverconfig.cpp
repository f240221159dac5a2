#include "net/serverconfig.h"

#include "detector/detector.h"

#include <QCommandLineParser>
#include <QTest>
#include <QThread>

using namespace edgelens;

namespace {

std::optional<ServerConfig> parse(const QStringList &arguments, QString *error)
{
    QCommandLineParser parser;
    ServerConfig::addOptions(parser);
    if (!parser.parse(QStringList{QStringLiteral("edgelens-server")} + arguments)) {
        *error = parser.errorText();
        return std::nullopt;
    }
    return ServerConfig::fromParser(parser, error);
}

} // namespace

class TestServerConfig : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        qunsetenv("EDGELENS_TOKEN");
        qunsetenv("EDGELENS_DNN_BACKEND");
    }

    void noArguments_giveTheTutorialsBehaviour()
    {
        QString error;
        const std::optional<ServerConfig> config = parse({}, &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->host, QHostAddress(QHostAddress::Any));
        QCOMPARE(config->port, quint16(6000));
        QCOMPARE(config->confidence, 0.5f);
        QVERIFY(config->token.isEmpty());
        QVERIFY(config->modelPaths.isEmpty());
    }

    void transportOptions_areReadAndCheckedTogether()
    {
        QString error;
        std::optional<ServerConfig> config = parse({}, &error);
        QVERIFY(config);
        QVERIFY(!config->tls);
        QCOMPARE(config->plainPort, -1);
        QVERIFY(!config->proxyProtocol);
        QCOMPARE(config->maxQueued, 64);

        config = parse({"--tls", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--plain-port", "6001", "--max-queue", "9"},
                       &error);
        QVERIFY2(config, qPrintable(error));
        QVERIFY(config->tls);
        QCOMPARE(config->tlsCertificateFile, QStringLiteral("c.pem"));
        QCOMPARE(config->tlsKeyFile, QStringLiteral("k.pem"));
        QCOMPARE(config->plainPort, 6001);
        QCOMPARE(config->maxQueued, 9);
        config = parse({"--proxy-protocol"}, &error);
        QVERIFY2(config, qPrintable(error));
        QVERIFY(config->proxyProtocol);

        QVERIFY(!parse({"--tls", "--proxy-protocol"}, &error));
        QVERIFY2(error.contains(QStringLiteral("plaintext ports only")), qPrintable(error));
        QVERIFY(!parse({"--tls-cert", "c.pem", "--tls-key", "k.pem"}, &error));
        QVERIFY2(error.contains(QStringLiteral("need --tls")), qPrintable(error));
        QVERIFY(!parse({"--tls", "--tls-cert", "c.pem"}, &error));
        QVERIFY2(error.contains(QStringLiteral("go together")), qPrintable(error));
        QVERIFY(!parse({"--tls", "--plain-port", "70000"}, &error));
        QVERIFY2(error.contains(QStringLiteral("--plain-port")), qPrintable(error));
    }

    void everyOption_isRead()
    {
        QString error;
        const std::optional<ServerConfig> config = parse(
            {"--host", "127.0.0.1", "--port", "7001", "--model", "a.onnx", "--model", "yolox-nano-640", "--models-dir",
             "/tmp", "--conf", "0.3", "--nms", "0.45", "--workers", "3", "--threads", "2", "--backend", "OpenCV", "--max-frame-mb", "8", "--max-pixels", "20M",
             "--max-connections", "5", "--idle-timeout", "2.5", "--token", "t", "--log-level", "warning"},
            &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->host, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(config->port, quint16(7001));
        QCOMPARE(config->modelPaths, (QStringList{"a.onnx", "yolox-nano-640"}));
        QCOMPARE(config->modelDirs, QStringList{"/tmp"});
        QCOMPARE(config->confidence, 0.3f);
        QCOMPARE(config->nmsIou, 0.45f);
        QCOMPARE(config->workers, 3);
        QCOMPARE(config->threads, 2);
        QCOMPARE(config->effectiveThreads(), 2);
        QCOMPARE(config->backend, QStringLiteral("opencv"));
        QCOMPARE(config->maxFrameBytes, 8u * 1024 * 1024);
        QCOMPARE(config->maxPixels, qint64(20'000'000));
        QCOMPARE(config->maxConnections, 5);
        QCOMPARE(config->idleTimeoutMs, 2500);
        QCOMPARE(config->token, QStringLiteral("t"));
        QCOMPARE(config->logLevel, QStringLiteral("warning"));
    }

    void httpPortLimits_areItsOwn()
    {
        QString error;
        std::optional<ServerConfig> config = parse({}, &error);
        QVERIFY(config);
        QCOMPARE(config->httpMaxConnections, 64);
        QCOMPARE(config->httpMaxPerAddress, 16);
        QCOMPARE(config->httpBodyBudgetBytes, qint64(80) * 1024 * 1024);
        QVERIFY(config->trustedProxies.isEmpty());
        config = parse({"--http-max-connections", "5", "--http-max-per-address", "2", "--http-body-budget-mb", "64",
                        "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1", "--http-proxy-protocol"},
                       &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->httpMaxConnections, 5);
        QCOMPARE(config->httpMaxPerAddress, 2);
        QCOMPARE(config->httpBodyBudgetBytes, qint64(64) * 1024 * 1024);
        QCOMPARE(config->trustedProxies, QStringList({"10.0.0.0/8", "::1"}));
        QVERIFY(config->httpProxyProtocol);
        QCOMPARE(config->maxConnections, 64); // the TCP port's, untouched

        QVERIFY(!parse({"--trusted-proxy", "nginx.local"}, &error));
        QVERIFY2(error.contains(QStringLiteral("--trusted-proxy")), qPrintable(error));
        QVERIFY(!parse({"--http-body-budget-mb", "16"}, &error)); // below the 32 MiB body limit
        QVERIFY2(error.contains(QStringLiteral("--http-body-budget-mb")), qPrintable(error));
        QVERIFY(!parse({"--tls", "--http-proxy-protocol"}, &error));
    }

    void tokenFromEnvironment_whenNoOption()
    {
        qputenv("EDGELENS_TOKEN", "from-env");
        QString error;
        QCOMPARE(parse({}, &error)->token, QStringLiteral("from-env"));
        QCOMPARE(parse({"--token", "cli"}, &error)->token, QStringLiteral("cli"));
    }

    void invalidValues_areRefusedNamingTheOption_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("option");
        QTest::newRow("port") << QStringList{"--port", "65536"} << "--port";
        QTest::newRow("port text") << QStringList{"--port", "http"} << "--port";
        QTest::newRow("host") << QStringList{"--host", "not an address"} << "--host";
        QTest::newRow("conf") << QStringList{"--conf", "1.5"} << "--conf";
        QTest::newRow("nms") << QStringList{"--nms", "-0.1"} << "--nms";
        QTest::newRow("workers") << QStringList{"--workers", "0"} << "--workers";
        QTest::newRow("workers beyond int") << QStringList{"--workers", "4294967298"} << "--workers";
        QTest::newRow("pixels overflowing") << QStringList{"--max-pixels", "99999999999999M"} << "--max-pixels";
        QTest::newRow("pixels lowest qint64") << QStringList{"--max-pixels", "-9223372036854775808"} << "--max-pixels";
        QTest::newRow("pixels lowest qint64 M") << QStringList{"--max-pixels", "-9223372036854775808M"} << "--max-pixels";
        QTest::newRow("threads") << QStringList{"--threads", "0"} << "--threads";
        QTest::newRow("threads text") << QStringList{"--threads", "all"} << "--threads";
        QTest::newRow("backend") << QStringList{"--backend", "tpu"} << "--backend";
        QTest::newRow("frame") << QStringList{"--max-frame-mb", "4096"} << "--max-frame-mb";
        QTest::newRow("pixels") << QStringList{"--max-pixels", "0"} << "--max-pixels";
        QTest::newRow("connections") << QStringList{"--max-connections", "-1"} << "--max-connections";
        QTest::newRow("idle") << QStringList{"--idle-timeout", "0"} << "--idle-timeout";
        QTest::newRow("log level") << QStringList{"--log-level", "verbose"} << "--log-level";
    }

    void invalidValues_areRefusedNamingTheOption()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, option);
        QString error;
        QVERIFY(!parse(arguments, &error));
        QVERIFY2(error.contains(option), qPrintable(error));
    }

    void unknownBackend_listsTheKnownOnes()
    {
        QString error;
        QVERIFY(!parse({"--backend", "tpu"}, &error));
        QVERIFY2(error.contains(QStringLiteral("\"tpu\"")), qPrintable(error));
        for (const QString &name : knownBackends())
            QVERIFY2(error.contains(name), qPrintable(error));
    }

    void backendMissingFromThisOpenCv_isRefusedNamingTheAvailableOnes()
    {
        QStringList missing;
        for (const QString &name : knownBackends()) {
            if (!availableBackends().contains(name))
                missing.append(name);
        }
        if (missing.isEmpty())
            QSKIP("this OpenCV build has every backend EdgeLens knows");
        for (const QString &name : std::as_const(missing)) {
            QString error;
            QVERIFY(!parse({"--backend", name}, &error));
            QVERIFY2(error.startsWith(QStringLiteral("--backend: ")), qPrintable(error));
            QVERIFY2(error.contains(QStringLiteral("not available")), qPrintable(error));
            QVERIFY2(error.contains(QStringLiteral("available: ") + availableBackends().join(QStringLiteral(", "))),
                     qPrintable(error));
        }
    }

    void defaultBackend_isTheEnvironmentsElseOpencv()
    {
        ServerConfig config;
        QCOMPARE(config.effectiveBackend(), QStringLiteral("opencv"));
        qputenv("EDGELENS_DNN_BACKEND", " CUDA ");
        QCOMPARE(config.effectiveBackend(), QStringLiteral("cuda"));
        config.backend = QStringLiteral("opencv");
        QCOMPARE(config.effectiveBackend(), QStringLiteral("opencv"));
    }

    void automaticThreads_areEveryCore_explicitOnesWin()
    {
        const int cores = qMax(1, QThread::idealThreadCount());
        ServerConfig config;
        QCOMPARE(config.threads, 0);
        for (const int workers : {1, 2, 8}) {
            config.workers = workers;
            QCOMPARE(config.effectiveThreads(), cores);
        }
        config.threads = 3;
        QCOMPARE(config.effectiveThreads(), 3);
    }

    void embedded_isLoopbackOnAnEphemeralPort()
    {
        const ServerConfig config = ServerConfig::embedded();
        QCOMPARE(config.host, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(config.port, quint16(0));
    }

    void frameTimeout_defaultsToFourIdleTimeouts()
    {
        ServerConfig config;
        config.idleTimeoutMs = 1000;
        QCOMPARE(config.effectiveFrameTimeoutMs(), 4000);
        config.frameTimeoutMs = 1500;
        QCOMPARE(config.effectiveFrameTimeoutMs(), 1500);
    }
};

QTEST_GUILESS_MAIN(TestServerConfig)
#include "tst_serverconfig.moc"
