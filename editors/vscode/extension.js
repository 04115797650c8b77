// Starts `xzdoc lsp` for project.yaml, xzdoc.yaml and the Markdown drafts of the open repository.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("xzdoc").get("command");
  client = new LanguageClient("xzdoc", "xzdoc", { command, args }, {
    documentSelector: [
      { scheme: "file", pattern: "**/project.yaml" },
      { scheme: "file", pattern: "**/xzdoc.yaml" },
      { scheme: "file", language: "markdown" },
    ],
  });
  context.subscriptions.push(client);
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
