#pragma once

// Where the app keeps the device access token: the desktop's keyring (Secret Service, KWallet,
// macOS Keychain, Windows Credential Store) through QtKeychain. Only where no keyring service
// runs at all (a bare window manager, a headless session) does it fall back to the settings
// file, and says so. When a keyring is there but refuses (the user dismissed the unlock
// prompt, access denied) or fails, the token is not written anywhere: it is used until the app
// quits and the note says the keyring refused. Every keyring call is asynchronous; answers
// come as signals.

#include <QObject>
#include <QString>

#include <functional>

namespace QKeychain {
class Job;
}

namespace edgelens {

class TokenStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TokenStore)

public:
    // Nowhere: the keyring refused or failed; the token lives only in this session.
    enum class Where { Unknown, Keyring, SettingsFile, Nowhere };
    Q_ENUM(Where)

    // How the store reaches the keyring; the default is the real one. Tests answer the jobs
    // themselves (QKeychain::Job::emitFinishedWithError) and say whether a service runs.
    struct Keyring
    {
        std::function<void(QKeychain::Job *job)> start;  // empty: job->start()
        std::function<bool()> serviceRunning;            // empty: ask the session bus
    };

    explicit TokenStore(QObject *parent = nullptr, Keyring keyring = {});
    ~TokenStore() override;

    // Emits loaded() once; an empty token when none is stored.
    void read();
    // Empty token: forget it. Emits saved() once: false when it is not kept anywhere.
    void write(const QString &token);
    bool isBusy() const { return m_busy; }

    Where where() const { return m_where; }
    // Empty while the keyring is used; otherwise why and where the token is kept instead.
    QString note() const { return m_note; }

    // The keyring entry: service "EdgeLens", key "<organization>/<application>/device-token".
    static QString keyringKey();
    static QString settingsKey(); // "connection/token" in QSettings("EdgeLens", "EdgeLens")
    // Whether a Secret Service or KWallet is on the session bus (running or activatable).
    static bool keyringServiceOnSessionBus();

Q_SIGNALS:
    void loaded(const QString &token);
    void saved(bool ok);
    void whereChanged(edgelens::TokenStore::Where where, const QString &note);

private:
    enum class Trouble { None, NoService, Refused, Failed };
    Trouble troubleOf(const QKeychain::Job *job) const;
    void startJob(QKeychain::Job *job);
    void useFallback(const QString &keyringError);
    void noteNotKept(Trouble trouble, const QString &keyringError, bool writing);
    void setWhere(Where where, const QString &note);

    Keyring m_keyring;
    Where m_where = Where::Unknown;
    QString m_note;
    bool m_busy = false;
};

} // namespace edgelens
