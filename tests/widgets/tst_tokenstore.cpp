// TokenStore's answers to what the keyring says, with the keyring's jobs answered by the test
// (TokenStore::Keyring): a refusal or a failure of a keyring that is there never puts the token
// in the plain-text settings file, and the note says the keyring refused; only a keyring
// service that is not there at all leads to the file, and the note says that instead.

#include "widgets/tokenstore.h"

#include "isolateduserstate.h"

#include <qt6keychain/keychain.h>

#include <QSettings>
#include <QSignalSpy>
#include <QTest>

using namespace edgelens;

namespace {

QSettings appSettings()
{
    return QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens"));
}

// A keyring whose every job ends with `error` (NoError: succeeds), with or without a service.
TokenStore::Keyring answering(QKeychain::Error error, const QString &why, bool serviceRunning)
{
    TokenStore::Keyring keyring;
    keyring.start = [error, why](QKeychain::Job *job) {
        QMetaObject::invokeMethod(
            job,
            [job, error, why] {
                if (error == QKeychain::NoError)
                    job->emitFinished();
                else
                    job->emitFinishedWithError(error, why);
            },
            Qt::QueuedConnection);
    };
    keyring.serviceRunning = [serviceRunning] { return serviceRunning; };
    return keyring;
}

} // namespace

class TestTokenStore final : public QObject
{
    Q_OBJECT

private:
    test::IsolatedUserState m_user;

private slots:
    void initTestCase()
    {
        QVERIFY(m_user.isValid());
        qputenv("DBUS_SESSION_BUS_ADDRESS", "disabled:"); // never a developer's own keyring
    }

    void init() { appSettings().clear(); }

    void refusedOrFailingKeyring_tokenIsNotWrittenAnywhere_noteSaysTheKeyringRefused_data()
    {
        QTest::addColumn<int>("error");
        QTest::addColumn<QString>("noteSays");
        QTest::newRow("user dismissed the prompt") << int(QKeychain::AccessDeniedByUser) << QStringLiteral("refused access");
        QTest::newRow("access denied") << int(QKeychain::AccessDenied) << QStringLiteral("refused access");
        QTest::newRow("other error, service running") << int(QKeychain::OtherError) << QStringLiteral("keyring failed");
    }
    void refusedOrFailingKeyring_tokenIsNotWrittenAnywhere_noteSaysTheKeyringRefused()
    {
        QFETCH(int, error);
        QFETCH(QString, noteSays);
        TokenStore store(nullptr, answering(QKeychain::Error(error), QStringLiteral("Locked collection"), true));
        QSignalSpy saved(&store, &TokenStore::saved);
        store.write(QStringLiteral("s3cret-token"));
        QVERIFY(saved.wait(5000));
        QCOMPARE(saved.first().first().toBool(), false);
        QCOMPARE(store.where(), TokenStore::Where::Nowhere);
        QVERIFY2(store.note().contains(noteSays), qPrintable(store.note()));
        QVERIFY2(store.note().contains(QStringLiteral("Locked collection")), qPrintable(store.note()));
        QVERIFY2(!store.note().contains(QStringLiteral("No keyring service")), qPrintable(store.note()));
        QVERIFY2(!store.note().contains(QStringLiteral("settings file")), qPrintable(store.note()));
        QVERIFY(!appSettings().contains(TokenStore::settingsKey()));
    }

    void refusedRead_saysSo_andNothingIsWritten()
    {
        TokenStore store(nullptr, answering(QKeychain::AccessDeniedByUser, QStringLiteral("dismissed"), true));
        QSignalSpy loaded(&store, &TokenStore::loaded);
        store.read();
        QVERIFY(loaded.wait(5000));
        QCOMPARE(loaded.first().first().toString(), QString());
        QCOMPARE(store.where(), TokenStore::Where::Nowhere);
        QVERIFY2(store.note().contains(QStringLiteral("refused access")), qPrintable(store.note()));
        QVERIFY(!appSettings().contains(TokenStore::settingsKey()));
    }

    void noKeyringService_tokenGoesToTheSettingsFile_noteSaysNoServiceRuns_data()
    {
        QTest::addColumn<int>("error");
        QTest::newRow("no backend") << int(QKeychain::NoBackendAvailable);
        QTest::newRow("unknown error, nothing on the bus") << int(QKeychain::OtherError);
    }
    void noKeyringService_tokenGoesToTheSettingsFile_noteSaysNoServiceRuns()
    {
        QFETCH(int, error);
        TokenStore store(nullptr, answering(QKeychain::Error(error), QStringLiteral("Unknown error"), false));
        QSignalSpy saved(&store, &TokenStore::saved);
        store.write(QStringLiteral("s3cret-token"));
        QVERIFY(saved.wait(5000));
        QCOMPARE(saved.first().first().toBool(), true);
        QCOMPARE(store.where(), TokenStore::Where::SettingsFile);
        QVERIFY2(store.note().contains(QStringLiteral("No keyring service is running")), qPrintable(store.note()));
        QCOMPARE(appSettings().value(TokenStore::settingsKey()).toString(), QStringLiteral("s3cret-token"));
    }

    void keyringTakesIt_noCopyStaysInTheFile()
    {
        appSettings().setValue(TokenStore::settingsKey(), QStringLiteral("old-plain-copy"));
        TokenStore store(nullptr, answering(QKeychain::NoError, QString(), true));
        QSignalSpy saved(&store, &TokenStore::saved);
        store.write(QStringLiteral("s3cret-token"));
        QVERIFY(saved.wait(5000));
        QCOMPARE(saved.first().first().toBool(), true);
        QCOMPARE(store.where(), TokenStore::Where::Keyring);
        QVERIFY(store.note().isEmpty());
        QVERIFY(!appSettings().contains(TokenStore::settingsKey()));
    }

    void realKeyringWithoutABus_isNoService()
    {
        // What CI and offscreen sessions have: no session bus, so no keyring service.
        QVERIFY(!TokenStore::keyringServiceOnSessionBus());
    }
};

QTEST_GUILESS_MAIN(TestTokenStore)
#include "tst_tokenstore.moc"
