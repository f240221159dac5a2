#pragma once

// Where the app keeps the device access token: the desktop's keyring (Secret Service, KWallet,
// macOS Keychain, Windows Credential Store) through QtKeychain. Where no keyring service runs
// (a bare window manager, a headless session) it falls back to the settings file and says so,
// so the dialog can tell the user. Every keyring call is asynchronous; answers come as signals.

#include <QObject>
#include <QString>

namespace edgelens {

class TokenStore final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TokenStore)

public:
    enum class Where { Unknown, Keyring, SettingsFile };
    Q_ENUM(Where)

    explicit TokenStore(QObject *parent = nullptr);
    ~TokenStore() override;

    // Emits loaded() once; an empty token when none is stored.
    void read();
    // Empty token: forget it. Emits saved() once.
    void write(const QString &token);
    bool isBusy() const { return m_busy; }

    Where where() const { return m_where; }
    // Empty while the keyring is used; otherwise why and where the token is kept instead.
    QString note() const { return m_note; }

    // The keyring entry: service "EdgeLens", key "<organization>/<application>/device-token".
    static QString keyringKey();
    static QString settingsKey(); // "connection/token" in QSettings("EdgeLens", "EdgeLens")

Q_SIGNALS:
    void loaded(const QString &token);
    void saved(bool ok);
    void whereChanged(edgelens::TokenStore::Where where, const QString &note);

private:
    void useFallback(const QString &keyringError);
    void setWhere(Where where, const QString &note);

    Where m_where = Where::Unknown;
    QString m_note;
    bool m_busy = false;
};

} // namespace edgelens
