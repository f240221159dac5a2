#include "widgets/appsettings.h"

#include "isolateduserstate.h"

#include <QFile>
#include <QSettings>
#include <QTest>

using namespace edgelens;

class TestAppSettings final : public QObject
{
    Q_OBJECT

private:
    edgelens::test::IsolatedUserState m_configDir; // QSettings ignores test mode

private slots:
    void initTestCase()
    {
        QVERIFY(m_configDir.isValid());
    }

    void validateHost_acceptsAddressesAndHostNames_data()
    {
        QTest::addColumn<QString>("host");
        for (const char *host : {"127.0.0.1", "192.168.1.20", "0.0.0.0", "255.255.255.255", "::1", "[::1]",
                                 "2001:db8::42", "[2001:db8:0:0:0:0:0:42]", "::ffff:10.0.0.1", "localhost",
                                 "device.local", "my-pi", "jetson-nano-01.lab.example.com", "example.com.",
                                 " 10.0.0.7 ", "3com.net"})
            QTest::newRow(host) << QString::fromLatin1(host);
    }

    void validateHost_acceptsAddressesAndHostNames()
    {
        QFETCH(QString, host);
        QCOMPARE(AppSettings::validateHost(host), QString());
    }

    void validateHost_rejectsWithReason_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("reasonPart");
        QTest::newRow("empty") << QString() << "Enter a host name";
        QTest::newRow("spaces only") << "   " << "Enter a host name";
        QTest::newRow("octet > 255") << "256.1.1.1" << "0-255";
        QTest::newRow("three octets") << "10.0.1" << "four numbers";
        QTest::newRow("five octets") << "1.2.3.4.5" << "four numbers";
        QTest::newRow("empty octet") << "1..3.4" << "IPv4";
        QTest::newRow("port appended") << "192.168.1.2:6000" << "IPv6";
        QTest::newRow("bad ipv6") << "2001:db8::g1" << "IPv6";
        QTest::newRow("unclosed bracket") << "[::1" << "']'";
        QTest::newRow("space in name") << "my host" << "' '";
        QTest::newRow("underscore") << "my_host" << "'_'";
        QTest::newRow("unicode") << QStringLiteral("caf\u00e9.local") << "letters, digits";
        QTest::newRow("leading hyphen") << "-pi.local" << "'-'";
        QTest::newRow("trailing hyphen") << "pi-.local" << "'-'";
        QTest::newRow("empty label") << "a..b" << "empty part";
        QTest::newRow("long label") << QString(64, QLatin1Char('a')) + QStringLiteral(".com") << "63";
        QTest::newRow("long name") << QString(QString(60, QLatin1Char('a')) + QLatin1Char('.')).repeated(5) + QStringLiteral("com") << "too long";
    }

    void validateHost_rejectsWithReason()
    {
        QFETCH(QString, host);
        QFETCH(QString, reasonPart);
        const QString reason = AppSettings::validateHost(host);
        QVERIFY2(reason.contains(reasonPart), qPrintable(QStringLiteral("\"%1\" -> \"%2\"").arg(host, reason)));
    }

    void saveThenLoad_restoresEveryField()
    {
        AppSettings s;
        s.target = AppSettings::Target::Remote;
        s.host = QStringLiteral("2001:db8::42");
        s.port = 6123;
        s.protocol = AppSettings::Protocol::Legacy;
        s.timeoutMs = 12000;
        s.maxInFlight = 9;
        s.model = QStringLiteral("yolox-nano-640");
        s.confidence = 0.35;
        s.nmsIou = 0.45;
        s.outputDir = m_configDir.filePath(QStringLiteral("out \u00fc"));
        s.jpegQuality = 77;
        s.jsonSidecars = false;
        s.lastFolder = QStringLiteral("/data/images");
        s.save();

        const AppSettings loaded = AppSettings::load();
        QCOMPARE(loaded.target, s.target);
        QCOMPARE(loaded.host, s.host);
        QCOMPARE(loaded.port, s.port);
        QCOMPARE(loaded.protocol, s.protocol);
        QCOMPARE(loaded.timeoutMs, s.timeoutMs);
        QCOMPARE(loaded.maxInFlight, s.maxInFlight);
        QCOMPARE(loaded.model, s.model);
        QCOMPARE(loaded.confidence, s.confidence);
        QCOMPARE(loaded.nmsIou, s.nmsIou);
        QCOMPARE(loaded.outputDir, s.outputDir);
        QCOMPARE(loaded.jpegQuality, s.jpegQuality);
        QCOMPARE(loaded.jsonSidecars, s.jsonSidecars);
        QCOMPARE(loaded.lastFolder, s.lastFolder);
        QVERIFY(loaded == s);
        // The default store is QSettings("EdgeLens", "EdgeLens"), here redirected to the temp dir.
        QVERIFY(QFile::exists(m_configDir.settingsDir() + QStringLiteral("/EdgeLens/EdgeLens.conf")));
    }

    void loadCorruptValues_usesDefaults()
    {
        QSettings settings(m_configDir.filePath(QStringLiteral("corrupt.ini")), QSettings::IniFormat);
        settings.setValue(QStringLiteral("connection/target"), QStringLiteral("mars"));
        settings.setValue(QStringLiteral("connection/host"), QStringLiteral("not a host!"));
        settings.setValue(QStringLiteral("connection/port"), 70000);
        settings.setValue(QStringLiteral("connection/protocol"), QStringLiteral("v9"));
        settings.setValue(QStringLiteral("connection/timeoutMs"), -5);
        settings.setValue(QStringLiteral("connection/maxInFlight"), QStringLiteral("many"));
        settings.setValue(QStringLiteral("detection/confidence"), 7.5);
        settings.setValue(QStringLiteral("detection/nmsIou"), QStringLiteral("abc"));
        settings.setValue(QStringLiteral("output/jpegQuality"), 0);

        const AppSettings loaded = AppSettings::load(settings);
        const AppSettings defaults;
        QVERIFY(loaded == defaults);
    }

    void loadMissingStore_usesDefaults()
    {
        QSettings settings(m_configDir.filePath(QStringLiteral("absent.ini")), QSettings::IniFormat);
        QVERIFY(AppSettings::load(settings) == AppSettings());
    }

    void settingsBeforeTheDeviceList_becomeItsOneDevice()
    {
        QSettings settings(m_configDir.filePath(QStringLiteral("old.ini")), QSettings::IniFormat);
        settings.setValue(QStringLiteral("connection/target"), QStringLiteral("remote"));
        settings.setValue(QStringLiteral("connection/host"), QStringLiteral("edge-pi.local"));
        settings.setValue(QStringLiteral("connection/port"), 6010);
        settings.setValue(QStringLiteral("connection/protocol"), QStringLiteral("legacy"));

        const AppSettings loaded = AppSettings::load(settings);
        QCOMPARE(loaded.devices.size(), 1);
        QCOMPARE(loaded.devices.first().name(), QStringLiteral("edge-pi.local:6010"));
        QCOMPARE(loaded.devices.first().protocol, AppSettings::Protocol::Legacy);
        QVERIFY(loaded.devices.first().enabled);
        QVERIFY(!loaded.embeddedJoins);

        // Saved again, it is a list from then on, and the single-device keys follow its first entry.
        AppSettings changed = loaded;
        AppSettings::Device second;
        second.host = QStringLiteral("::1");
        second.port = 7000;
        second.tls = true;
        second.enabled = false;
        changed.setDevices({second, loaded.devices.first()});
        changed.embeddedJoins = true;
        changed.save(settings);
        QCOMPARE(settings.value(QStringLiteral("connection/host")).toString(), QStringLiteral("::1"));
        const AppSettings again = AppSettings::load(settings);
        QCOMPARE(again.devices.size(), 2);
        QCOMPARE(again.devices.first().name(), QStringLiteral("[::1]:7000"));
        QVERIFY(again.devices.first().tls);
        QVERIFY(!again.devices.first().enabled);
        QVERIFY(again.embeddedJoins);
        QVERIFY(again == changed);
    }

    void storedDevicesThatAreInvalid_areDroppedWithTheRestKept()
    {
        QSettings settings(m_configDir.filePath(QStringLiteral("devices.ini")), QSettings::IniFormat);
        settings.beginWriteArray(QStringLiteral("devices"), 3);
        settings.setArrayIndex(0);
        settings.setValue(QStringLiteral("host"), QStringLiteral("not a host!"));
        settings.setValue(QStringLiteral("port"), 6000);
        settings.setArrayIndex(1);
        settings.setValue(QStringLiteral("host"), QStringLiteral("10.0.0.9"));
        settings.setValue(QStringLiteral("port"), 6009);
        settings.setArrayIndex(2);
        settings.setValue(QStringLiteral("host"), QStringLiteral("10.0.0.10"));
        settings.setValue(QStringLiteral("port"), 99999);
        settings.endArray();
        const AppSettings loaded = AppSettings::load(settings);
        QCOMPARE(loaded.devices.size(), 1);
        QCOMPARE(loaded.devices.first().name(), QStringLiteral("10.0.0.9:6009"));
        QCOMPARE(loaded.host, QStringLiteral("10.0.0.9")); // the single-device form follows
    }

    void validateDevices_explainsWhatIsWrong()
    {
        AppSettings::Device a;
        AppSettings::Device b = a;
        QVERIFY(AppSettings::validateDevices({a}, false).isEmpty());
        QVERIFY(AppSettings::validateDevices({a, b}, false).contains(QStringLiteral("listed twice")));
        b.port = 6001;
        b.enabled = false;
        a.enabled = false;
        QVERIFY(AppSettings::validateDevices({a, b}, false).contains(QStringLiteral("disabled")));
        QVERIFY(AppSettings::validateDevices({a, b}, true).isEmpty()); // the embedded server still works
        QVERIFY(AppSettings::validateDevices({}, false).contains(QStringLiteral("Add a device")));
        a.enabled = true;
        a.tls = true;
        a.protocol = AppSettings::Protocol::Legacy;
        QVERIFY(AppSettings::validateDevices({a}, false).contains(QStringLiteral("cannot be encrypted")));
    }

    void clientProtocol_followsTheStoredChoice()
    {
        AppSettings s;
        QCOMPARE(s.clientProtocol(), DetectionClient::Protocol::Auto);
        s.protocol = AppSettings::Protocol::V2;
        QCOMPARE(s.clientProtocol(), DetectionClient::Protocol::V2);
        s.protocol = AppSettings::Protocol::Legacy;
        QCOMPARE(s.clientProtocol(), DetectionClient::Protocol::Legacy);
    }
};

QTEST_GUILESS_MAIN(TestAppSettings)
#include "tst_appsettings.moc"
