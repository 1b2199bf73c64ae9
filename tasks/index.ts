import "./model";
import "./rollup";
import "./repos";
import "./demo";
import "./bench";
import "./ptau";
import "./ceremony";
import "./audit";
