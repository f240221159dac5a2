#pragma once

#include "inputs/imageorigin.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace edgelens {

struct ScannedImage
{
    QString absolutePath; // clean absolute path of the input file
    QString relativePath; // path below the folder it was found in ("sub/a.jpg"); the file name for a file argument
    ImageOrigin origin{}; // a photo, or the video frame this image file was extracted from
};

struct ScanResult
{
    QList<ScannedImage> images;  // in argument order, each folder sorted by path
    QList<ScannedImage> videos;  // video files (VideoFileSource::isSupportedVideo), the same order; FrameExtractor makes their images
    QStringList skipped;         // files that are neither a supported image nor a video
    QStringList missing;         // arguments that do not exist or cannot be read
    int duplicates = 0;          // inputs that named a file already listed
    // EdgeLens output folders met inside a scanned folder (a marker file, or an excluded
    // folder) and the images in them: results are not sent again as new inputs.
    int skippedOutputFolders = 0;
    int skippedOutputImages = 0;
};

// Turns the files and folders a user named into the list of images to process. Folders are
// walked recursively (hidden entries and symlinked folders are not followed); an image found
// twice (a file named explicitly and again inside a named folder, or through a symlink) is
// listed once, the first time. Folders holding EdgeLens results (the marker file ResultWriter
// writes, or an excluded folder) are skipped below a scanned folder and counted; a folder the
// user names directly is always scanned.
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

    // The marker file in every folder EdgeLens writes results to (".edgelens-output").
    static QString outputMarkerName();
    static bool isOutputFolder(const QString &folder); // the folder holds the marker
    // path is folder or lies below it (both clean or canonical).
    static bool isInside(const QString &path, const QString &folder);
    // Supported images anywhere below folder (what skipping it leaves out).
    static int countImages(const QString &folder);

private:
    QStringList m_excluded; // canonical paths
};

} // namespace edgelens
