#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace edgelens {

struct ScannedImage
{
    QString absolutePath; // clean absolute path of the input file
    QString relativePath; // path below the folder it was found in ("sub/a.jpg"); the file name for a file argument
};

struct ScanResult
{
    QList<ScannedImage> images;  // in argument order, each folder sorted by path
    QStringList skipped;         // files that are not a supported image type
    QStringList missing;         // arguments that do not exist or cannot be read
    int duplicates = 0;          // inputs that named a file already listed
};

// Turns the files and folders a user named into the list of images to process. Folders are
// walked recursively (hidden entries and symlinked folders are not followed); an image found
// twice (a file named explicitly and again inside a named folder, or through a symlink) is
// listed once, the first time.
class ImageScanner final
{
public:
    ImageScanner() = default;

    // Folders whose content must not be scanned when they lie inside a folder being scanned,
    // e.g. the output folder of a previous run.
    void setExcludedFolders(const QStringList &folders);

    ScanResult scan(const QStringList &paths) const;

    static bool isSupportedImage(const QString &fileName); // by suffix, case-insensitive
    static QStringList supportedSuffixes();                // jpg jpeg jpe png bmp dib webp tif tiff pbm pgm ppm

private:
    QStringList m_excluded; // canonical paths
};

} // namespace edgelens
